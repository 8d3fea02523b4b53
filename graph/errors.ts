/**
 * Every way a Graph call can fail, classified once, here. Activities throw these; Temporal carries the
 * class name as the failure's `type`, so the workflow decides on a class (or `kind`), never on a number.
 *
 * Messages are built only from the request's method and path (never the query string, which carries
 * `client_secret` and `code` on the OAuth call) and from Meta's error text after secrets are redacted.
 */

import { headerValue, type ResponseHeaders } from './response-headers';
import { longestRegainAccessMs } from './usage';

export type GraphErrorKind = 'retryable' | 'throttled' | 'needs_attention' | 'rejected';

export interface GraphErrorFields {
  /** HTTP status of Meta's answer; 0 when no answer arrived (network error, timeout). */
  httpStatus: number;
  code?: number;
  subcode?: number;
  type?: string;
  fbtraceId?: string;
  isTransient?: boolean;
}

export abstract class GraphApiError extends Error implements GraphErrorFields {
  abstract readonly kind: GraphErrorKind;
  readonly httpStatus: number;
  readonly code?: number;
  readonly subcode?: number;
  readonly type?: string;
  readonly fbtraceId?: string;
  readonly isTransient?: boolean;

  constructor(message: string, fields: GraphErrorFields) {
    super(message);
    // Temporal turns `name` into the ApplicationFailure type the workflow matches on.
    this.name = new.target.name;
    this.httpStatus = fields.httpStatus;
    this.code = fields.code;
    this.subcode = fields.subcode;
    this.type = fields.type;
    this.fbtraceId = fields.fbtraceId;
    this.isTransient = fields.isTransient;
  }
}

/** Meta hiccuped (codes 1, 2, `is_transient`, HTTP 5xx, no answer): the same call may succeed later. */
export class GraphRetryableError extends GraphApiError {
  readonly kind = 'retryable' as const;
}

/** Rate limited: retry, but not before `retryAfterMs` when Meta said how long. */
export class GraphThrottledError extends GraphApiError {
  readonly kind = 'throttled' as const;
  constructor(
    message: string,
    fields: GraphErrorFields,
    readonly retryAfterMs?: number,
  ) {
    super(message, fields);
  }
}

/** A token or permission problem a person must fix; retrying cannot help. */
export class GraphNeedsAttentionError extends GraphApiError {
  readonly kind = 'needs_attention' as const;
}

/** Meta refused the Embedded Signup code (expired, already used, unknown): a fresh code is needed. */
export class GraphCodeRejectedError extends GraphApiError {
  readonly kind = 'rejected' as const;
}

/** Any other 4xx: the request itself is wrong, so the same call would fail again. */
export class GraphRequestError extends GraphApiError {
  readonly kind = 'rejected' as const;
}

/**
 * A 2xx answer that does not have the shape we expect. Treated as retryable: in practice this is Meta
 * (or a proxy in front of it) answering with an HTML page or a half-written body, which passes.
 */
export class GraphResponseError extends GraphApiError {
  readonly kind = 'retryable' as const;
}

/** Throttling codes from Meta's rate-limiting docs (app, user, page, BUC and WhatsApp limits). */
export const THROTTLING_CODES: ReadonlySet<number> = new Set([
  4, 17, 32, 613, 130429,
  ...Array.from({ length: 14 }, (_, i) => 80001 + i), // 80001–80014, business use case limits
]);

/**
 * Token problems: 190 (invalid / expired / revoked), 102 (session invalid), 104 (no token at all).
 * The contract names 190; the other two mean the same to an operator.
 */
export const TOKEN_CODES: ReadonlySet<number> = new Set([190, 102, 104]);

/** Permission problems: 10 and 200–299. */
export const isPermissionCode = (code: number) => code === 10 || (code >= 200 && code <= 299);

export const TRANSIENT_CODES: ReadonlySet<number> = new Set([1, 2]);

/**
 * OAuth code errors, all under code 100: 36007 the code expired, 36008 Meta cannot validate it
 * (unknown code, wrong redirect), 36009 the code was already used.
 */
export const CODE_REJECTED_SUBCODES: ReadonlySet<number> = new Set([36007, 36008, 36009]);

/**
 * The Intent API's "a request was already sent for this business" error. Meta does not document the
 * subcode; this is ours, and the sandbox answers with it. The client also accepts any 4xx whose
 * message says "already", so the real shape is recognised whatever its subcode.
 */
export const INTENT_ALREADY_SENT_SUBCODE = 2593107;

/** The `error` object of Meta's error envelope, as loosely as it arrives. */
export interface GraphErrorBody {
  message?: string;
  type?: string;
  code?: number;
  error_subcode?: number;
  is_transient?: boolean;
  fbtrace_id?: string;
}

export interface ClassifyContext {
  /** Names the call in the message, without its query: "GET /v24.0/123". */
  request?: string;
  /** Redacted from Meta's message should it echo one back. */
  secrets?: readonly (string | undefined)[];
}

/**
 * Turns a non-2xx answer into the one error class the rest of the service acts on. `body` is the
 * parsed JSON (or anything else).
 */
export function classifyGraphError(
  httpStatus: number,
  body: unknown,
  headers: ResponseHeaders = {},
  context: ClassifyContext = {},
): GraphApiError {
  const error = errorObjectOf(body);
  const fields: GraphErrorFields = {
    httpStatus,
    code: error?.code,
    subcode: error?.error_subcode,
    type: error?.type,
    fbtraceId: error?.fbtrace_id,
    isTransient: error?.is_transient,
  };
  const message = redactSecrets(describe(context.request, httpStatus, error), context.secrets ?? []);
  const code = error?.code;

  if ((code !== undefined && THROTTLING_CODES.has(code)) || (code === undefined && httpStatus === 429)) {
    return new GraphThrottledError(message, fields, retryAfterMsOf(headers));
  }
  if (code !== undefined && (TOKEN_CODES.has(code) || isPermissionCode(code))) {
    return new GraphNeedsAttentionError(message, fields);
  }
  if (code === 100 && error?.error_subcode !== undefined && CODE_REJECTED_SUBCODES.has(error.error_subcode)) {
    return new GraphCodeRejectedError(message, fields);
  }
  if ((code !== undefined && TRANSIENT_CODES.has(code)) || error?.is_transient === true) {
    return new GraphRetryableError(message, fields);
  }
  if (httpStatus >= 500 || httpStatus === 408) return new GraphRetryableError(message, fields);
  return new GraphRequestError(message, fields);
}

/** An answer that never came: connection refused or reset, DNS, timeout. */
export function networkError(
  request: string,
  cause: unknown,
  secrets: readonly (string | undefined)[] = [],
): GraphRetryableError {
  const err = cause as { name?: string; code?: string; message?: string } | undefined;
  const what = err?.name === 'TimeoutError' ? 'timed out' : `${err?.code ?? err?.name ?? 'Error'}: ${err?.message ?? ''}`;
  // The cause is deliberately not attached: undici errors can carry socket and request details.
  return new GraphRetryableError(redactSecrets(`${request} failed: ${what}`, secrets), { httpStatus: 0 });
}

/**
 * Longest wait Meta asked for, in ms: the max `estimated_time_to_regain_access` (minutes) over every
 * entry of `X-Business-Use-Case-Usage`, or `Retry-After` (seconds or an HTTP date), whichever is longer.
 */
export function retryAfterMsOf(headers: ResponseHeaders): number | undefined {
  let longest = longestRegainAccessMs(headers);
  const retryAfter = headerValue(headers, 'retry-after');
  if (retryAfter) {
    const seconds = Number(retryAfter);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - Date.now();
    if (Number.isFinite(ms)) longest = Math.max(longest, ms);
  }
  return longest > 0 ? Math.round(longest) : undefined;
}

/** Replaces every occurrence of each secret (raw and URL-encoded) with a marker. */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    // Very short strings would redact innocent text and are not real credentials anyway.
    if (!secret || secret.length < 4) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join('[redacted]');
  }
  return out;
}

function errorObjectOf(body: unknown): GraphErrorBody | undefined {
  const error = (body as { error?: unknown } | null | undefined)?.error;
  if (!error || typeof error !== 'object') return undefined;
  const e = error as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined);
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    message: str(e.message),
    type: str(e.type),
    code: num(e.code),
    error_subcode: num(e.error_subcode),
    is_transient: typeof e.is_transient === 'boolean' ? e.is_transient : undefined,
    fbtrace_id: str(e.fbtrace_id),
  };
}

function describe(request: string | undefined, httpStatus: number, error: GraphErrorBody | undefined): string {
  const facts = [`HTTP ${httpStatus}`];
  if (error?.code !== undefined) facts.push(`code ${error.code}`);
  if (error?.error_subcode !== undefined) facts.push(`subcode ${error.error_subcode}`);
  if (error?.fbtrace_id) facts.push(`fbtrace_id ${error.fbtrace_id}`);
  const what = error?.message ?? 'no Graph error in the answer';
  return `${request ? `${request} failed: ` : ''}${what} (${facts.join(', ')})`;
}
