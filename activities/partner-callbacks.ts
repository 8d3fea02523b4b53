/**
 * Signed status callbacks to the partner's backend (docs/partner-callbacks.md).
 *
 * The activity makes one delivery attempt and classifies the answer; the workflow's activity retry
 * policy supplies the backoff "for days". Ordering per WABA is the workflow's job (one event at a time).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { request, type Dispatcher } from 'undici';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, type Logger } from '@temporalio/common';
import { redactUrl } from '../config';
import { FailureType } from '../workflows/failure-types';
import type { PartnerCallbackEvent } from '../workflows/types';

export type { PartnerCallbackEvent };

export const CALLBACK_SIGNATURE_HEADER = 'x-mm-signature-256';
export const CALLBACK_EVENT_ID_HEADER = 'x-mm-event-id';

/** Retryable failures (partner down, throttling, timeouts). Refusals use FailureType.PartnerCallbackRejected. */
export const PARTNER_CALLBACK_UNAVAILABLE = 'PartnerCallbackUnavailable';

const DEFAULT_TIMEOUT_MS = 10_000;
/** A Retry-After longer than this is shortened: asking again early costs one more 429, nothing else. */
const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;
/** Response bodies are not used; read at most this much so the connection can be reused. */
const MAX_DRAINED_BODY_BYTES = 64 * 1024;

export type PartnerCallbackLog = Pick<Logger, 'info' | 'warn'>;

export interface PartnerCallbackDeps {
  /** `config.partnerCallback`; unset means callbacks are off. */
  callback?: { url: string; secret: string };
  /** Whole attempt: connect, send, response headers and body. Default 10 s. */
  timeoutMs?: number;
  /** undici dispatcher (tests pass their own Agent); default the global one. */
  dispatcher?: Dispatcher;
  /** Default: the activity context's logger when inside an activity, else silent. */
  log?: PartnerCallbackLog;
}

export type PartnerCallbackDelivery =
  | { delivered: true; status: number }
  | { delivered: false; skipped: 'not_configured' };

/** Details of the ApplicationFailure thrown for a refused or failed delivery. */
export interface PartnerCallbackFailureDetails {
  eventId: string;
  /** HTTP status, absent when no response arrived (network error, timeout). */
  status?: number;
}

/** `sha256=<hex HMAC-SHA256 of the raw body>`, the value of X-MM-Signature-256. */
export function signCallbackBody(rawBody: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex')}`;
}

/** Partner side: checks X-MM-Signature-256 over the bytes as received, in constant time. */
export function verifyCallbackSignature(
  rawBody: string | Buffer,
  header: string | undefined,
  secret: string,
): boolean {
  if (!header || !secret) return false;
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
  if (!match) return false;
  const given = Buffer.from(match[1], 'hex');
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The request body, with keys in the documented order; serialised once, then signed and sent as is. */
export function serialiseCallbackEvent(event: PartnerCallbackEvent): string {
  const { id, type, wabaId, businessId, status, previousStatus, reason, at } = event;
  return JSON.stringify({ id, type, wabaId, businessId, status, previousStatus, reason, at });
}

export function createPartnerCallbackActivities(deps: PartnerCallbackDeps) {
  const { callback, dispatcher } = deps;
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const log = (): PartnerCallbackLog => deps.log ?? activityLog() ?? silentLog;

  return {
    /** Run once per workflow run (a local activity), so runs without a callback URL schedule none. */
    async partnerCallbacksConfigured(): Promise<boolean> {
      return callback !== undefined;
    },

    async deliverPartnerCallback(event: PartnerCallbackEvent): Promise<PartnerCallbackDelivery> {
      if (!callback) return { delivered: false, skipped: 'not_configured' };
      if (!event?.id) {
        throw ApplicationFailure.nonRetryable('Partner callback event has no id', 'InvalidPartnerCallbackEvent');
      }
      const target = callbackTarget(callback.url);
      const where = redactUrl(callback.url);
      const scrub = scrubber([
        callback.secret,
        ...(callback.url === where ? [] : [callback.url]),
        ...target.sensitiveParts,
      ]);
      const body = serialiseCallbackEvent(event);
      const failure = (message: string, details: PartnerCallbackFailureDetails, nextRetryDelay?: number) =>
        ApplicationFailure.create({
          message: scrub(message),
          type: PARTNER_CALLBACK_UNAVAILABLE,
          details: [details],
          nextRetryDelay,
        });

      let response: Dispatcher.ResponseData;
      try {
        // undici 7's request() never follows redirects (that needs the redirect interceptor), so a
        // 3xx comes back here as is and the signed event never reaches another host.
        response = await request(target.url, {
          method: 'POST',
          dispatcher,
          body,
          headers: {
            'content-type': 'application/json',
            'user-agent': 'mm-onboarding',
            [CALLBACK_SIGNATURE_HEADER]: signCallbackBody(body, callback.secret),
            [CALLBACK_EVENT_ID_HEADER]: event.id,
            ...(target.authorization ? { authorization: target.authorization } : {}),
          },
          signal: AbortSignal.timeout(timeoutMs),
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
      } catch (err) {
        const message = `Partner callback ${event.id} to ${where} failed: ${describeRequestError(err, timeoutMs)}`;
        log().warn(scrub(message), { eventId: event.id });
        throw failure(message, { eventId: event.id });
      }

      const status = response.statusCode;
      await response.body.dump({ limit: MAX_DRAINED_BODY_BYTES }).catch(() => undefined);

      if (status >= 200 && status < 300) {
        log().info('Partner callback delivered', { eventId: event.id, status, url: where });
        return { delivered: true, status };
      }
      if (isRefusal(status)) {
        const why = status < 400 ? 'a redirect, not followed' : 'refused, not retried';
        const message = `Partner callback ${event.id} to ${where} answered ${status} (${why})`;
        log().warn(scrub(message), { eventId: event.id, status });
        throw ApplicationFailure.nonRetryable(scrub(message), FailureType.PartnerCallbackRejected, {
          status,
          eventId: event.id,
        } satisfies PartnerCallbackFailureDetails);
      }
      const retryAfterMs =
        status === 429 || status === 503 ? parseRetryAfter(response.headers['retry-after']) : undefined;
      const message =
        `Partner callback ${event.id} to ${where} answered ${status}; will retry` +
        (retryAfterMs === undefined ? '' : ` after ${Math.round(retryAfterMs / 1000)} s (Retry-After)`);
      log().warn(scrub(message), { eventId: event.id, status });
      throw failure(message, { eventId: event.id, status }, retryAfterMs);
    },
  };
}

/** 3xx, and 4xx other than 408 (timeout) and 429 (throttled): retrying would not change the answer. */
function isRefusal(status: number): boolean {
  if (status >= 300 && status < 400) return true;
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/** Retry-After as delay-seconds or an HTTP date, clamped to [1 s, 1 h]; undefined if absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!raw) return undefined;
  let ms: number;
  if (/^\d+$/.test(raw)) ms = Number(raw) * 1000;
  else {
    const date = Date.parse(raw);
    if (Number.isNaN(date)) return undefined;
    ms = date - now;
  }
  return Math.min(Math.max(ms, 1000), MAX_RETRY_AFTER_MS);
}

/**
 * undici ignores credentials in a URL; a partner who configured `https://user:pass@host/...` gets them
 * as Basic auth instead, and they never travel in the request line.
 */
function callbackTarget(rawUrl: string): { url: URL; authorization?: string; sensitiveParts: string[] } {
  const url = new URL(rawUrl);
  const sensitiveParts = [url.search, url.password, url.username && `${url.username}:`];
  let authorization: string | undefined;
  if (url.username || url.password) {
    const plain = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    authorization = `Basic ${Buffer.from(plain, 'utf8').toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  return { url, authorization, sensitiveParts };
}

function describeRequestError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; message?: string } | undefined;
  if (
    e?.name === 'TimeoutError' ||
    e?.name === 'AbortError' ||
    e?.code === 'UND_ERR_HEADERS_TIMEOUT' ||
    e?.code === 'UND_ERR_BODY_TIMEOUT' ||
    e?.code === 'UND_ERR_CONNECT_TIMEOUT'
  ) {
    return `timed out after ${timeoutMs} ms`;
  }
  const code = e?.code ?? e?.name ?? 'Error';
  return e?.message ? `${code}: ${e.message}` : code;
}

/** Removes secrets from text bound for errors and logs (defence in depth; messages are built without them). */
function scrubber(secrets: string[]): (text: string) => string {
  const needles = secrets.filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  return (text) => needles.reduce((t, needle) => t.split(needle).join('[redacted]'), text);
}

function activityLog(): PartnerCallbackLog | undefined {
  try {
    return Context.current().log;
  } catch {
    return undefined; // called outside an activity (unit tests, scripts)
  }
}

const silentLog: PartnerCallbackLog = { info: () => undefined, warn: () => undefined };
