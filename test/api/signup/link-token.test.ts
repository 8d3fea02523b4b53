import { permissionsOf } from '../../../graph';
import { SignupLinkSigner } from '../../../api/signup/link-token';

describe('signup link tokens', () => {
  const signer = new SignupLinkSigner('app-secret');
  const exp = Math.floor(Date.now() / 1000) + 3600;

  test('a link carries its id, expiry, business and options, and checks out on any process with the same secret', () => {
    const { token, link } = signer.issue({ exp, businessId: '123', options: { templateSyncGraceSeconds: 60 } });
    expect(new SignupLinkSigner('app-secret').check(token)).toEqual({ ok: true, link });
    expect(link.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  test('another secret, a changed payload or a cut token is unknown; past its time it is expired', () => {
    const { token } = signer.issue({ exp });
    expect(new SignupLinkSigner('other-secret').check(token)).toEqual({ ok: false, reason: 'unknown' });
    const [v, , sig] = token.split('.');
    const payload = Buffer.from(JSON.stringify({ id: 'A'.repeat(22), exp: exp + 999 })).toString('base64url');
    expect(signer.check(`${v}.${payload}.${sig}`).ok).toBe(false);
    expect(signer.check(token.slice(0, -2)).ok).toBe(false);
    expect(signer.check(`${token}.x`).ok).toBe(false);
    expect(signer.check(token, (exp + 1) * 1000)).toMatchObject({ ok: false, reason: 'expired' });
  });

  test('only the canonical signature checks out: padding, standard-alphabet or stray characters make it unknown', () => {
    const { token } = signer.issue({ exp });
    const [v, payload, sig] = token.split('.');
    const standard = Buffer.from(sig, 'base64url').toString('base64'); // the same bytes, '+' '/' and '='
    expect(standard).not.toBe(sig);
    // Unpadded standard base64 is the signature itself when it happens to hold no '-' or '_'.
    const variants = [`${sig}=`, standard, standard.replace(/=+$/, ''), `${sig}!`, `${sig.slice(0, 10)} ${sig.slice(10)}`, `${sig}\n`];
    for (const variant of variants.filter((v) => v !== sig)) {
      expect(Buffer.from(variant, 'base64url').equals(Buffer.from(sig, 'base64url'))).toBe(true); // decodes to the signature
      expect(signer.check(`${v}.${payload}.${variant}`)).toEqual({ ok: false, reason: 'unknown' });
    }
    expect(signer.check(`${v}.${payload}.${sig}`).ok).toBe(true);
  });
});

describe('token permissions (debug_token)', () => {
  const all = ['whatsapp_business_management', 'whatsapp_business_messaging', 'ads_read'];

  test('a permission counts for a WABA only when its granular scope lists that WABA or none', () => {
    const info = {
      valid: true,
      scopes: all,
      granularScopes: [
        { scope: 'whatsapp_business_management', targetIds: ['111'] },
        { scope: 'whatsapp_business_messaging' },
      ],
    };
    expect(permissionsOf(info, '111')).toEqual({ valid: true, missing: [], insightsAvailable: true });
    expect(permissionsOf(info, '222').missing).toEqual(['whatsapp_business_management']);
    expect(permissionsOf(info).missing).toEqual([]);
  });

  test('a scope missing from scopes is missing, ads_read only turns insights off', () => {
    const info = { valid: true, scopes: ['whatsapp_business_management'], granularScopes: [] };
    expect(permissionsOf(info, '111')).toEqual({ valid: true, missing: ['whatsapp_business_messaging'], insightsAvailable: false });
  });
});
