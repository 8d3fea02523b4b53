/**
 * Hosted signup links: `v1.<payload>.<signature>`, base64url, HMAC-SHA256 under a key derived from
 * META_APP_SECRET. The link carries everything the page needs (id, expiry, business, options, the
 * partner's name), so any API process can check it without a store; only "used" lives in Temporal
 * (workflows/signup-link.ts). The payload is signed, not encrypted: it holds no secret.
 */
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { sameSecret } from '../http/constant-time';
import { z } from 'zod';
import { onboardingOptions } from '../partner/schemas';

const VERSION = 'v1';
const HKDF_SALT = 'mm-onboarding/signup-links/salt/v1';
const HKDF_INFO = 'mm-onboarding/signup-links/hmac/v1';

const payloadSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
  /** Expiry, Unix seconds. */
  exp: z.number().int().positive(),
  businessId: z.string().optional(),
  partnerName: z.string().optional(),
  options: onboardingOptions.optional(),
});
export type SignupLink = z.output<typeof payloadSchema>;

export type LinkCheck = { ok: true; link: SignupLink } | { ok: false; reason: 'unknown' | 'expired'; link?: SignupLink };

export class SignupLinkSigner {
  private readonly key: Buffer;

  constructor(appSecret: string) {
    this.key = Buffer.from(hkdfSync('sha256', appSecret, HKDF_SALT, HKDF_INFO, 32));
  }

  /** A new link's token: a random id, and the rest as given. */
  issue(fields: Omit<SignupLink, 'id'>): { token: string; link: SignupLink } {
    const link: SignupLink = { id: randomBytes(16).toString('base64url'), ...fields };
    const payload = Buffer.from(JSON.stringify(link), 'utf8').toString('base64url');
    return { token: `${VERSION}.${payload}.${this.sign(payload)}`, link };
  }

  /** Unknown: not a token this service signed (or tampered with). Expired: signed, but past its time. */
  check(token: string, now = Date.now()): LinkCheck {
    const [version, payload, signature, ...rest] = token.split('.');
    if (version !== VERSION || !payload || !signature || rest.length) return { ok: false, reason: 'unknown' };
    // The text as signed, not its decoded bytes: base64 decoders skip padding, the other alphabet and
    // stray characters, so one link would otherwise have many spellings that all check out.
    if (!sameSecret(signature, this.sign(payload))) return { ok: false, reason: 'unknown' };
    let link: SignupLink;
    try {
      link = payloadSchema.parse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
    } catch {
      return { ok: false, reason: 'unknown' };
    }
    if (link.exp * 1000 <= now) return { ok: false, reason: 'expired', link };
    return { ok: true, link };
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(`${VERSION}.${payload}`).digest('base64url');
  }
}
