/** How a call to Temporal itself failed: worth another try, or refused for good. */

// gRPC codes for "try again": cancelled, deadline exceeded, resource exhausted, internal, unavailable.
const RETRY_CODES = new Set([1, 4, 8, 13, 14]);

/** Temporal could not be reached or was too busy: the same call may well succeed later. */
export function isTemporalUnreachable(err: unknown): boolean {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = e?.code ?? e?.cause?.code;
  return typeof code === 'number' && RETRY_CODES.has(code);
}
