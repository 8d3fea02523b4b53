import { randomBytes, randomInt } from 'node:crypto';

/** A Graph-looking id: 15 digits, no leading zero. */
export function graphId(taken: (id: string) => boolean = () => false): string {
  for (let i = 0; i < 100; i++) {
    const id = `${randomInt(1, 10)}${String(randomInt(0, 1e7)).padStart(7, '0')}${String(randomInt(0, 1e7)).padStart(7, '0')}`;
    if (!taken(id)) return id;
  }
  throw new Error('could not find a free id');
}

/** Meta's fbtrace_id: 11 url-safe characters. */
export const fbtraceId = () => randomBytes(9).toString('base64url').slice(0, 11);

/** Opaque secrets in the shape Meta hands out. */
export const signupCode = () => `AQ${randomBytes(48).toString('base64url')}`;
export const userAccessToken = () => `EAAG${randomBytes(60).toString('base64url')}`;
