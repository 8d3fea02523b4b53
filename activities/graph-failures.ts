import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../workflows/failure-types';
import {
  GraphApiError,
  GraphCodeRejectedError,
  GraphNeedsAttentionError,
  GraphRequestError,
  GraphThrottledError,
} from '../graph';

/**
 * Turns a classified Graph error into what Temporal should do with it: retry (the activity's retry
 * policy, with Meta's own delay when throttled) or stop and let the workflow decide by failure type.
 */
export function asActivityFailure(err: unknown): unknown {
  if (!(err instanceof GraphApiError)) return err;
  const details = [{ code: err.code, subcode: err.subcode, fbtraceId: err.fbtraceId }];
  if (err instanceof GraphNeedsAttentionError) {
    return ApplicationFailure.nonRetryable(err.message, FailureType.GraphNeedsAttention, ...details);
  }
  if (err instanceof GraphCodeRejectedError) {
    return ApplicationFailure.nonRetryable(err.message, FailureType.SignupCodeRejected, ...details);
  }
  if (err instanceof GraphRequestError) {
    return ApplicationFailure.nonRetryable(err.message, FailureType.GraphRequestRejected, ...details);
  }
  if (err instanceof GraphThrottledError && err.retryAfterMs) {
    return ApplicationFailure.create({ message: err.message, type: FailureType.GraphThrottled, details, nextRetryDelay: err.retryAfterMs });
  }
  return err; // retryable: the activity's retry policy backs off
}

export async function classified<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw asActivityFailure(err);
  }
}
