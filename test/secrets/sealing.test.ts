import { deriveSealingKey, isSealed, seal, SealedSecretError, unseal } from '../../secrets/sealing';

const key = deriveSealingKey('app-secret-for-tests');
const token = 'EAAG-very-secret-access-token-1234567890';

/** Flips one character of the ciphertext part, keeping the format valid. */
function tamper(sealed: string): string {
  const i = sealed.length - 5;
  const flipped = sealed[i] === 'A' ? 'B' : 'A';
  return sealed.slice(0, i) + flipped + sealed.slice(i + 1);
}

function unsealError(sealed: string, withKey: Buffer): unknown {
  try {
    unseal(sealed, withKey);
  } catch (err) {
    return err;
  }
  throw new Error('unseal did not throw');
}

describe('secret sealing', () => {
  it('derives a stable 32-byte key, different per app secret', () => {
    expect(key).toHaveLength(32);
    expect(deriveSealingKey('app-secret-for-tests').equals(key)).toBe(true);
    expect(deriveSealingKey('another-app-secret').equals(key)).toBe(false);
  });

  it('round-trips, including empty and non-ASCII text', () => {
    for (const plain of [token, '', 'código ✓ 日本']) {
      const sealed = seal(plain, key);
      expect(isSealed(sealed)).toBe(true);
      expect(sealed).toMatch(/^sealed:v1:[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      expect(unseal(sealed, key)).toBe(plain);
    }
  });

  it('uses a fresh IV every time', () => {
    const a = seal(token, key);
    const b = seal(token, key);
    expect(a).not.toBe(b);
    expect(a.split('.')[0]).not.toBe(b.split('.')[0]);
  });

  it('never contains the plain text', () => {
    const sealed = seal(token, key);
    expect(sealed).not.toContain(token);
    expect(sealed).not.toContain(Buffer.from(token).toString('base64url'));
    expect(sealed).not.toContain(Buffer.from(token).toString('base64'));
  });

  it('rejects a tampered value', () => {
    const err = unsealError(tamper(seal(token, key)), key);
    expect(err).toBeInstanceOf(SealedSecretError);
    expect((err as Error).message).not.toContain(token);
  });

  it('rejects a value sealed under another key', () => {
    const err = unsealError(seal(token, deriveSealingKey('old-app-secret')), key);
    expect(err).toBeInstanceOf(SealedSecretError);
    expect((err as Error).message).toMatch(/wrong key or tampered/);
    expect((err as Error).message).not.toContain(token);
  });

  it('rejects bad formats without echoing them', () => {
    for (const bad of [token, '', 'sealed:v1:', 'sealed:v1:abc', 'sealed:v2:aaaa.bbbb', 'sealed:v1:aaaa.bbbb']) {
      const err = unsealError(bad, key);
      expect(err).toBeInstanceOf(SealedSecretError);
      expect((err as Error).message).not.toContain(token);
      expect((err as Error).message).not.toMatch(/aaaa|bbbb|abc/);
    }
  });

  it('refuses keys of the wrong size', () => {
    expect(() => seal(token, Buffer.alloc(16))).toThrow(SealedSecretError);
    expect(() => deriveSealingKey('')).toThrow(SealedSecretError);
  });

  it('isSealed recognises only the sealed format', () => {
    expect(isSealed(seal('x', key))).toBe(true);
    expect(isSealed('x')).toBe(false);
    expect(isSealed(undefined)).toBe(false);
    expect(isSealed(42)).toBe(false);
  });
});
