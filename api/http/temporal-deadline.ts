/**
 * A Temporal call that ends at its deadline. The client's gRPC retries (Temporal down) look at the
 * deadline only after their current backoff, which the SDK lets grow to 5 s, so a call given 3 s
 * could end after 5.6 s: late for Meta's webhook timeout and for the API's documented deadline.
 * Here the caller gets DEADLINE_EXCEEDED (mapped to 503 `temporal_unavailable`) a moment after the
 * deadline; the abandoned call fails on its own at its next attempt. The grace (a quarter of the
 * deadline, at most 1 s) lets Temporal's own deadline answer first when it can (an update's timeout
 * is a 504, not a 503), and an answer that arrived in time win over a timer a busy event loop runs
 * late (timers run before I/O callbacks in each turn of the loop).
 */
import type { Client } from '@temporalio/client';
import { GRPC_DEADLINE_EXCEEDED } from './errors';

const MAX_GRACE_MS = 1_000;

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
    timer = setTimeout(() => reject(new DeadlineExceededError(ms)), ms + Math.min(MAX_GRACE_MS, Math.max(100, ms / 4)));
  });
  return Promise.race([client.withDeadline(Date.now() + ms, call), late]).finally(() => clearTimeout(timer));
}
