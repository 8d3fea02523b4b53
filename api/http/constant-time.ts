import { createHash, timingSafeEqual } from 'node:crypto';

/** Hashing first gives equal-length buffers for timingSafeEqual, and hides the lengths too. */
export const digestOf = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Constant-time comparison of two secrets (verify tokens, API keys). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digestOf(a), digestOf(b));
}
