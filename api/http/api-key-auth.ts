/**
 * Bearer API keys for /v1/*. Keys are compared in constant time against every configured key (no
 * early exit), and are never logged: a failed attempt is logged without its key.
 */
import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ApiError, sendError } from './errors';
import type { Logger } from './logger';
import { digestOf } from './constant-time';

/** `res.locals[API_KEY_ID]`: which configured key authorised the request (its position, never the key). */
export const API_KEY_ID = 'apiKeyId';

export function requireApiKey(apiKeys: readonly string[], log: Logger): RequestHandler {
  const known = apiKeys.map(digestOf);
  return (req, res, next) => {
    const match = /^Bearer[ ]+([^\s]+)[ ]*$/i.exec(req.get('authorization') ?? '');
    let matched = -1;
    if (match) {
      const given = digestOf(match[1]);
      known.forEach((key, i) => {
        if (timingSafeEqual(given, key)) matched = i;
      });
    }
    if (matched >= 0) {
      res.locals[API_KEY_ID] = `key-${matched}`;
      return next();
    }
    log.warn('rejected API request', { method: req.method, path: req.path, reason: match ? 'unknown key' : 'no bearer key' });
    res.set('WWW-Authenticate', 'Bearer');
    sendError(
      res,
      new ApiError(401, 'unauthorized', match ? 'the API key is not valid' : 'send an API key as "Authorization: Bearer <key>"'),
    );
  };
}
