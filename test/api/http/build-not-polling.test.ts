/**
 * A run whose build has no worker polling is its own answer: 503 `temporarily_unavailable` with
 * `Retry-After`, not `temporal_unavailable` and not a 500, and `no_poller` in the Temporal-call
 * metrics, not `error`. The errors as the SDK hands them over; the real story is
 * test/api/partner/old-build-answers.test.ts.
 */
import { ServiceError } from '@temporalio/client';
import { BuildNotPollingError, isTemporalUnavailable, toApiError } from '../../../api/http/errors';
import { temporalCallResult } from '../../../api/ops/temporal-call-result';

/** What the client throws for a query the server could give no worker (Server 1.32). */
const noPollerSeen = () =>
  new ServiceError('Failed to query Workflow', {
    cause: Object.assign(new Error('9 FAILED_PRECONDITION: no poller seen for task queue recently, worker may be down'), { code: 9 }),
  });

test("the server's no-poller refusal and the API's own finding are 503 temporarily_unavailable with Retry-After", () => {
  for (const err of [noPollerSeen(), new BuildNotPollingError("WABA 1's onboarding", 'a-123', true)]) {
    const answer = toApiError(err);
    expect(answer).toMatchObject({ status: 503, code: 'temporarily_unavailable', retryAfterSeconds: 10, details: { retryAfterSeconds: 10 } });
    expect(answer.message).toMatch(/not polling: it is being moved to the current build; try again in 10 s/);
    expect(isTemporalUnavailable(err)).toBe(false);
  }
  expect(toApiError(new BuildNotPollingError("WABA 1's onboarding", 'a-123', true)).message).toBe(
    "WABA 1's onboarding runs on build a-123, whose workers are not polling: it is being moved to the current build; try again in 10 s " +
      '(the request was not accepted yet and may still take effect once the run moves; repeating it is safe)',
  );
});

test('neither counts as a Temporal error in the metrics', () => {
  expect(temporalCallResult(noPollerSeen())).toBe('no_poller');
  expect(temporalCallResult(new BuildNotPollingError('x'))).toBe('no_poller');
  // Another FAILED_PRECONDITION still does.
  expect(temporalCallResult(new ServiceError('x', { cause: Object.assign(new Error('9 FAILED_PRECONDITION: something else'), { code: 9 }) }))).toBe('error');
});
