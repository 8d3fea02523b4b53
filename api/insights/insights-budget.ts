/**
 * Each API key's budget of insights asks in this process: a bucket of INSIGHTS_ASKS_PER_MINUTE that
 * refills evenly, so a burst of a minute's worth is fine and a key that keeps asking faster is
 * answered `429 rate_limited` with `Retry-After` (the seconds until its next ask fits) before any
 * Temporal or Graph call. One key holder cannot crowd out the others' reads.
 */
import type { RequestHandler } from 'express';
import { ApiError, sendError } from '../http/errors';
import { API_KEY_ID } from '../http/api-key-auth';

export const INSIGHTS_ASKS_PER_MINUTE = 120;

interface Bucket {
  tokens: number;
  at: number;
}

export class RequestBudget {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.perMs = perMinute / 60_000;
  }

  /** Takes one ask from `key`'s budget: 0 when it fits, else the seconds until one would. */
  take(key: string): number {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * this.perMs);
    bucket.at = now;
    this.buckets.set(key, bucket); // one per configured key: bounded by API_KEYS
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000));
  }

  /** Express middleware after requireApiKey (which names the key in `res.locals`). */
  middleware(): RequestHandler {
    return (_req, res, next) => {
      const retryAfterSeconds = this.take(String(res.locals[API_KEY_ID] ?? 'unknown'));
      if (retryAfterSeconds === 0) return next();
      sendError(
        res,
        new ApiError(
          429,
          'rate_limited',
          `this API key asked for insights more than ${this.perMinute} times a minute; retry in ${retryAfterSeconds} s`,
          { retryAfterSeconds },
          retryAfterSeconds,
        ),
      );
    };
  }
}
