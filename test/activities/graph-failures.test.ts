import { ApplicationFailure } from '@temporalio/common';
import { asActivityFailure } from '../../activities/graph-failures';
import {
  GraphCodeRejectedError,
  GraphNeedsAttentionError,
  GraphRequestError,
  GraphRetryableError,
  GraphThrottledError,
} from '../../graph';
import { FailureType } from '../../workflows/failure-types';

const fields = { httpStatus: 400, code: 190, fbtraceId: 'trace' };

describe('what Temporal does with each class of Graph error', () => {
  test.each([
    [FailureType.GraphNeedsAttention, new GraphNeedsAttentionError('token expired', fields)],
    [FailureType.SignupCodeRejected, new GraphCodeRejectedError('code used', { ...fields, code: 100, subcode: 36009 })],
    [FailureType.GraphRequestRejected, new GraphRequestError('bad parameter', { ...fields, code: 100 })],
  ])('stops retrying and reaches the workflow as %s', (type, error) => {
    const failure = asActivityFailure(error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type, nonRetryable: true, message: error.message });
  });

  test("throttling retries after Meta's own estimate, not the policy's backoff", () => {
    const failure = asActivityFailure(new GraphThrottledError('too many calls', { httpStatus: 400, code: 80008 }, 7 * 60_000));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ nonRetryable: false, nextRetryDelay: 7 * 60_000 });
  });

  test('transient errors, and throttling without a hint, are left to the retry policy', () => {
    const transient = new GraphRetryableError('try again', { httpStatus: 500, code: 2, isTransient: true });
    expect(asActivityFailure(transient)).toBe(transient);
    const throttled = new GraphThrottledError('slow down', { httpStatus: 400, code: 4 });
    expect(asActivityFailure(throttled)).toBe(throttled);
  });

  test('anything that is not a Graph error passes through untouched', () => {
    const bug = new TypeError('a bug');
    expect(asActivityFailure(bug)).toBe(bug);
  });
});
