/**
 * A Temporal call that ends at its deadline. The client's gRPC retries (Temporal down) look at the
 * deadline only after their current backoff, which the SDK lets grow to 5 s, so a call given 3 s
 * could end after 5.6 s: late for Meta's webhook timeout and for the API's documented deadline.
 * Here the caller gets DEADLINE_EXCEEDED (mapped to 503 `temporal_unavailable`) a moment after the
 * deadline; the abandoned call fails on its own at its next attempt. The moment of grace lets
 * Temporal's own deadline answer first when it can (an update's timeout is a 504, not a 503).
 */
import type { Client } from '@temporalio/client';

const GRACE_MS = 250;
const GRPC_DEADLINE_EXCEEDED = 4;

export class DeadlineExceededError extends Error {
  readonly code = GRPC_DEADLINE_EXCEEDED;
  constructor(ms: number) {
    super(`Temporal did not answer within ${ms} ms`);
    this.name = 'DeadlineExceededError';
  }
}

export function callWithin<T>(client: Client, ms: number, call: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceededError(ms)), ms + GRACE_MS);
  });
  return Promise.race([client.withDeadline(Date.now() + ms, call), late]).finally(() => clearTimeout(timer));
}
