/**
 * Sealing of secrets that must pass through Temporal workflow history (the Embedded Signup OAuth code,
 * the access token it is exchanged for). History is stored and shown in the Web UI, so these values
 * only ever appear there as `sealed:v1:...`: AES-256-GCM under a key derived from META_APP_SECRET.
 *
 * Rotating META_APP_SECRET makes values sealed under the old secret unreadable (SealedSecretError):
 * an in-flight Embedded Signup then needs a fresh code.
 *
 * A neutral module (Node crypto only): the API seals what it hands to workflows, activities open it.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const PREFIX = 'sealed:v1:';
const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Fixed and named so the derived key is distinct from any other use of the app secret. */
const HKDF_SALT = 'mm-onboarding/secret-sealing/salt/v1';
const HKDF_INFO = 'mm-onboarding/secret-sealing/workflow-history/v1';

/** The version prefix is authenticated too, so a value cannot be relabelled as another format. */
const AAD = Buffer.from(PREFIX, 'utf8');

const SEALED_FORMAT = /^sealed:v1:([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;

/** A sealed value could not be opened. The message never carries the value or the key. */
export class SealedSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealedSecretError';
  }
}

/** The 32-byte sealing key, derived from the app secret with HKDF-SHA256. */
export function deriveSealingKey(appSecret: string): Buffer {
  if (!appSecret) throw new SealedSecretError('Cannot derive a sealing key from an empty secret');
  return Buffer.from(hkdfSync('sha256', appSecret, HKDF_SALT, HKDF_INFO, KEY_BYTES));
}

/** `sealed:v1:<base64url iv>.<base64url ciphertext+tag>`, with a fresh random IV every call. */
export function seal(plain: string, key: Buffer): string {
  assertKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(AAD);
  const sealed = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${PREFIX}${iv.toString('base64url')}.${sealed.toString('base64url')}`;
}

/** Opens a value made by `seal`; throws SealedSecretError on a bad format, tampering or a wrong key. */
export function unseal(sealed: string, key: Buffer): string {
  assertKey(key);
  const match = typeof sealed === 'string' ? SEALED_FORMAT.exec(sealed) : null;
  if (!match) throw new SealedSecretError('Not a sealed secret (expected sealed:v1:<iv>.<ciphertext>)');
  const iv = Buffer.from(match[1], 'base64url');
  const data = Buffer.from(match[2], 'base64url');
  if (iv.length !== IV_BYTES || data.length < TAG_BYTES) {
    throw new SealedSecretError('Sealed secret is malformed');
  }
  try {
    const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(AAD);
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    const plain = Buffer.concat([decipher.update(data.subarray(0, data.length - TAG_BYTES)), decipher.final()]);
    return plain.toString('utf8');
  } catch {
    // GCM cannot tell a wrong key from tampering; neither detail would help an attacker anyway.
    throw new SealedSecretError('Sealed secret cannot be opened: wrong key or tampered value');
  }
}

/** True for a string in the sealed format (says nothing about whether it opens). */
export function isSealed(s: unknown): s is string {
  return typeof s === 'string' && SEALED_FORMAT.test(s);
}

function assertKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
    throw new SealedSecretError(`Sealing key must be ${KEY_BYTES} bytes (use deriveSealingKey)`);
  }
}
