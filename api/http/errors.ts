/**
 * Every error the API answers has one body: `{ error: { code, message, details? } }`.
 * Route handlers throw ApiError (or let Temporal's errors through); the error middleware at the end of
 * the app turns anything thrown into that body, so there is never an HTML page or a crash.
 */
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import {
  ServiceError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import type { Logger } from './logger';

export type ErrorCode =
  | 'invalid_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'gone'
  | 'missing_permission'
  | 'payload_too_large'
  | 'headers_too_large'
  | 'unsupported_media_type'
  | 'not_implemented'
  | 'not_ready'
  | 'not_onboarded_on_meta'
  | 'not_marketing'
  | 'rate_limited'
  | 'graph_error'
  | 'graph_throttled'
  | 'temporal_unavailable'
  | 'temporarily_unavailable'
  | 'search_attributes_unavailable'
  | 'timeout'
  | 'internal';

export interface ErrorDetail {
  /** Where the field was: the body, the path parameters or the query string. */
  in: 'body' | 'params' | 'query';
  /** Dotted path of the field inside it, e.g. `options.templateSyncGraceSeconds`. */
  path: string;
  message: string;
}

/** Field errors for a bad request; facts about the refusal otherwise (e.g. Meta's code, a readyAt). */
export type ErrorDetails = ErrorDetail[] | Record<string, unknown>;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: ErrorDetails };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetails,
    /** Sent as `Retry-After`: when asking again may get another answer. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function sendError(res: Response, err: ApiError): void {
  const body: ErrorBody = { error: { code: err.code, message: err.message } };
  const details = err.details;
  if (details && (Array.isArray(details) ? details.length : Object.keys(details).length)) body.error.details = details;
  if (err.retryAfterSeconds !== undefined) res.set('Retry-After', String(err.retryAfterSeconds));
  res.status(err.status).json(body);
}

// gRPC status codes that mean "Temporal could not be reached or did not answer in time".
const GRPC_CANCELLED = 1;
export const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_RESOURCE_EXHAUSTED = 8;
const GRPC_UNAVAILABLE = 14;
const UNAVAILABLE_CODES = new Set([GRPC_CANCELLED, GRPC_DEADLINE_EXCEEDED, GRPC_RESOURCE_EXHAUSTED, GRPC_UNAVAILABLE]);

function grpcCode(err: unknown): number | undefined {
  const candidates = [err, (err as { cause?: unknown })?.cause];
  for (const c of candidates) {
    const code = (c as { code?: unknown })?.code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

/** True when the error says Temporal is down or slow, i.e. the caller should retry later. */
export function isTemporalUnavailable(err: unknown): boolean {
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
  const code = grpcCode(err);
  if (code !== undefined && UNAVAILABLE_CODES.has(code)) return true;
  // The SDK wraps transport failures it cannot classify in a bare ServiceError.
  return err instanceof ServiceError && code === undefined;
}

const GRPC_FAILED_PRECONDITION = 9;

/** The messages of the error and of its cause (the SDK wraps the gRPC error in a ServiceError). */
const errorMessages = (err: unknown) => [err, (err as { cause?: unknown })?.cause].map((e) => (e instanceof Error ? e.message : ''));

/**
 * The server dropped an update because the workflow task carrying it failed (e.g. a signal arrived
 * as the worker completed it): the update never ran, and the same update may simply be sent again.
 */
export function isUpdateLostToTaskFailure(err: unknown): boolean {
  if (grpcCode(err) !== GRPC_FAILED_PRECONDITION) return false;
  return errorMessages(err).some((m) => /unexpected workflow task failure/i.test(m));
}

/**
 * How soon to ask again when a run's build has no worker polling: such a run is moved to the
 * current build within seconds to minutes, and answers again from there.
 */
export const NOT_POLLING_RETRY_AFTER_SECONDS = 10;

/**
 * A run the request needs cannot answer because no worker of its build polls (its build's workers
 * stopped before it moved to the current one; docs/versioning.md). Temporal itself is fine, and the
 * request may be asked again shortly: not a Temporal failure.
 */
export class BuildNotPollingError extends Error {
  constructor(
    /** Whose run, in the answer's words, e.g. "WABA 123's onboarding". */
    readonly subject: string,
    readonly buildId?: string,
    /** An update was sent: the server keeps it, and delivers it once the run polls again. */
    updateSent = false,
  ) {
    super(
      `${subject} runs on ${buildId ? `build ${buildId}, whose workers are` : 'a build whose workers are'} not polling: ` +
        `it is being moved to the current build; try again in ${NOT_POLLING_RETRY_AFTER_SECONDS} s` +
        (updateSent ? ' (the request was not accepted yet and may still take effect once the run moves; repeating it is safe)' : ''),
    );
    this.name = 'BuildNotPollingError';
  }
}

/** The server's own refusal of a query no worker could take: "no poller seen for task queue recently". */
export function isNoPollerSeen(err: unknown): boolean {
  if (grpcCode(err) !== GRPC_FAILED_PRECONDITION) return false;
  return errorMessages(err).some((m) => /no poller seen/i.test(m));
}

/** The run's build has no worker polling, as the server said or as the API found out. */
export const isBuildNotPolling = (err: unknown): boolean => err instanceof BuildNotPollingError || isNoPollerSeen(err);

/** A run of an earlier build has no handler for the query asked: the caller asks as that build answers. */
export const isQueryNotRegistered = (err: unknown): boolean => (err as { name?: unknown } | undefined)?.name === 'QueryNotRegisteredError';

/** 503 `temporarily_unavailable`, with `Retry-After`. */
export function temporarilyUnavailable(message: string, retryAfterSeconds = NOT_POLLING_RETRY_AFTER_SECONDS): ApiError {
  return new ApiError(503, 'temporarily_unavailable', message, { retryAfterSeconds }, retryAfterSeconds);
}

/** Maps what the Temporal client throws to the API's answer. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof WorkflowNotFoundError) return new ApiError(404, 'not_found', 'no onboarding for this WABA');
  if (err instanceof BuildNotPollingError) return temporarilyUnavailable(err.message);
  if (isNoPollerSeen(err)) return temporarilyUnavailable(new BuildNotPollingError('the run this request needs').message);
  if (err instanceof WorkflowUpdateFailedError) {
    // The workflow's validator (or handler) refused: its message says why, in the business's terms.
    return new ApiError(409, 'conflict', err.cause?.message ?? err.message);
  }
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    return new ApiError(504, 'timeout', 'the onboarding did not answer in time; the request may still take effect, and repeating it is safe');
  }
  if (isTemporalUnavailable(err)) {
    return new ApiError(503, 'temporal_unavailable', 'Temporal is unreachable right now; retry shortly');
  }
  return new ApiError(500, 'internal', 'internal error');
}

/** Errors raised by express's own body parsers carry `type` and `status`. */
interface BodyParserError {
  type?: string;
  status?: number;
}

function fromBodyParser(err: BodyParserError): ApiError | undefined {
  switch (err.type) {
    // Never echo the parser's message: Node quotes the offending body text in it.
    case 'entity.parse.failed':
      return new ApiError(400, 'invalid_request', 'the request body is not valid JSON');
    case 'entity.too.large':
      return new ApiError(413, 'payload_too_large', 'the request body is too large');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ApiError(415, 'unsupported_media_type', 'unsupported body encoding or charset');
    case 'request.aborted':
      return new ApiError(400, 'invalid_request', 'the request was aborted');
  }
  if (typeof err.status === 'number' && err.status >= 400 && err.status < 500) {
    return new ApiError(err.status, 'invalid_request', 'the request could not be read');
  }
  return undefined;
}

/** The error's name and message and those of its causes (a Temporal ServiceError hides the gRPC one). */
function describeError(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 4; depth++) {
    parts.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(' <- ');
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const apiError = err instanceof ApiError ? err : (fromBodyParser(err as BodyParserError) ?? toApiError(err));
    if (apiError.status >= 500) {
      // Only the error's name and message: never the request, which may carry a code or a key. A run
      // waiting to move to the current build is expected during a release: a warning, not an error.
      const entry = { method: req.method, path: req.path, status: apiError.status, error: describeError(err) };
      if (apiError.code === 'temporarily_unavailable') log.warn('request failed', entry);
      else log.error('request failed', entry);
    }
    if (res.headersSent) return;
    sendError(res, apiError);
  };
}

export const notFoundHandler: RequestHandler = (req, res) => {
  sendError(res, new ApiError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};
