/**
 * Bearer API keys for /v1/*. Keys are compared in constant time against every configured key (no
 * early exit), and are never logged: a failed attempt is logged without its key.
 */
import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ApiError, sendError } from './errors';
import type { Logger } from './logger';
import { digestOf } from './constant-time';

export function requireApiKey(apiKeys: readonly string[], log: Logger): RequestHandler {
  const known = apiKeys.map(digestOf);
  return (req, res, next) => {
    const match = /^Bearer[ ]+([^\s]+)[ ]*$/i.exec(req.get('authorization') ?? '');
    let ok = false;
    if (match) {
      const given = digestOf(match[1]);
      for (const key of known) ok = timingSafeEqual(given, key) || ok;
    }
    if (ok) return next();
    log.warn('rejected API request', { method: req.method, path: req.path, reason: match ? 'unknown key' : 'no bearer key' });
    res.set('WWW-Authenticate', 'Bearer');
    sendError(
      res,
      new ApiError(401, 'unauthorized', match ? 'the API key is not valid' : 'send an API key as "Authorization: Bearer <key>"'),
    );
  };
}
