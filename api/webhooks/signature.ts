/**
 * Meta signs every webhook POST: `X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the raw body
 * bytes under the app secret. It is checked over the bytes exactly as received (a re-serialised body
 * would differ), in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-hub-signature-256';
const PREFIX = 'sha256=';
const SHA256_HEX = /^[0-9a-f]{64}$/i;

export function signatureOf(rawBody: Buffer, appSecret: string): string {
  return PREFIX + createHmac('sha256', appSecret).update(rawBody).digest('hex');
}

/** True only for a well-formed header whose HMAC matches the body. */
export function hasValidSignature(rawBody: Buffer, header: string | undefined, appSecret: string): boolean {
  if (!header?.startsWith(PREFIX)) return false;
  const hex = header.slice(PREFIX.length).trim();
  // Checking the format first makes both buffers 32 bytes, as timingSafeEqual requires.
  if (!SHA256_HEX.test(hex)) return false;
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  return timingSafeEqual(Buffer.from(hex, 'hex'), expected);
}
