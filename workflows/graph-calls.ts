import { ActivityFailure, ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { graphTaskQueue } from '../temporal/task-queues';
import { FailureType } from './failure-types';
import { attentionReasons } from './attention-reasons';

/** Something a person must fix before the onboarding can go on: parks it in NEEDS_ATTENTION. */
export class NeedsAttention extends Error {}

// Graph calls go through their own task queue, whose server-side rate limit is GRAPH_MAX_RPS.
const graphQueue = () => graphTaskQueue(workflowInfo().taskQueue);

/**
 * Graph calls the process makes on its own. Ceiling: 10 attempts, at most 2 minutes apart (about
 * 10 minutes in all, longer only when Meta's throttling asks for it); then the failure reaches the
 * workflow, which parks in NEEDS_ATTENTION.
 */
const graphActivities = () =>
  proxyActivities<Activities>({
    taskQueue: graphQueue(),
    startToCloseTimeout: '30s',
    // Transient and throttled errors retry here (throttling with Meta's own delay, set by the
    // activity); token, permission and request errors are non-retryable and surface as failures.
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 10 },
  });

/**
 * The status read a recheck asked for: the operator is waiting on the answer. Ceiling: 4 attempts
 * within 20 s, queue time included (a throttle that asks for longer ends it at once, and the
 * process's own read takes over: `readOnboardingStatusNow`), so the recheck answers well inside the
 * API's 30 s update deadline.
 */
export const RECHECK_READ_SCHEDULE_TO_CLOSE = '20s';
const recheckReadActivities = () =>
  proxyActivities<Activities>({
    taskQueue: graphQueue(),
    startToCloseTimeout: '8s',
    scheduleToCloseTimeout: RECHECK_READ_SCHEDULE_TO_CLOSE,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '4s', maximumAttempts: 4 },
  });

/**
 * Joining the business's Intent request (a signal-with-start to Temporal itself). Ceiling: 10
 * attempts, at most a minute apart (about 4 minutes); a refusal for good ends it at once. Then the
 * onboarding parks in NEEDS_ATTENTION, and a recheck joins again.
 */
const intentJoins = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1 minute', maximumAttempts: 10 },
});

/** The activities the onboarding calls, each on the queue it belongs to. */
export const onboardingActivities = Object.freeze({
  readOnboardingStatus: (...args: Parameters<Activities['readOnboardingStatus']>) => graphActivities().readOnboardingStatus(...args),
  /**
   * The same read, bounded for an operator waiting on a recheck. When Meta throttles it for longer
   * than the bound (`estimated_time_to_regain_access` in minutes), the process's own read waits the
   * throttle out instead, as a drift check's does: a throttle is not something a person must fix, so
   * it does not park the onboarding (the API answers 202 meanwhile, the status kept).
   */
  readOnboardingStatusNow: (...args: Parameters<Activities['readOnboardingStatus']>) =>
    recheckReadActivities()
      .readOnboardingStatus(...args)
      .catch((err: unknown) => {
        if (!throttledPastTheBound(err)) throw err;
        return graphActivities().readOnboardingStatus(...args);
      }),
  checkCloudApiNumbers: (...args: Parameters<Activities['checkCloudApiNumbers']>) => graphActivities().checkCloudApiNumbers(...args),
  exchangeSignupCode: (...args: Parameters<Activities['exchangeSignupCode']>) => graphActivities().exchangeSignupCode(...args),
  checkTokenPermissions: (...args: Parameters<Activities['checkTokenPermissions']>) => graphActivities().checkTokenPermissions(...args),
  subscribeApp: (...args: Parameters<Activities['subscribeApp']>) => graphActivities().subscribeApp(...args),
  listMarketingTemplates: (...args: Parameters<Activities['listMarketingTemplates']>) => graphActivities().listMarketingTemplates(...args),
  requestIntent: (...args: Parameters<Activities['requestIntent']>) => graphActivities().requestIntent(...args),
  readBusinessOnboardingStatus: (...args: Parameters<Activities['readBusinessOnboardingStatus']>) =>
    graphActivities().readBusinessOnboardingStatus(...args),
  joinBusinessIntent: (...args: Parameters<Activities['joinBusinessIntent']>) =>
    intentJoins.joinBusinessIntent(...args).catch((err: unknown) => {
      if (!(err instanceof ActivityFailure)) throw err;
      throw new NeedsAttention(attentionReasons.intentJoinFailed(err.cause?.message ?? err.message));
    }),
});

/**
 * The business's intent workflow tells its waiting WABAs in one activity (heartbeats per batch of
 * signals). Ceiling: 10 attempts, at most a minute apart (about 4 minutes); each retry signals only
 * the WABAs not reached yet. Then the business goes on without them (they learn it on a recheck).
 */
export const { tellIntentRequested } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1 minute', maximumAttempts: 10 },
});

/** Starting a page's onboardings: heartbeats per WABA, so a crashed worker's page is retried within seconds. */
const discoveryBookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '15s',
  // A Temporal that stays unreachable this long fails the page (and the discovery) instead of looping forever.
  retry: { initialInterval: '1s', maximumInterval: '1 minute', maximumAttempts: 60 },
});

/** The discovery's activities: the Graph list on the rate-limited queue, the starts beside the workflow. */
export const discoveryActivities = Object.freeze({
  listEligibleClientWabas: (...args: Parameters<Activities['listEligibleClientWabas']>) => graphActivities().listEligibleClientWabas(...args),
  startDiscoveredOnboardings: discoveryBookkeeping.startDiscoveredOnboardings,
});

/**
 * Runs a Graph activity; an error a person must fix (expired token, missing permission, a request
 * Meta refuses, or retries exhausted) becomes NeedsAttention instead of failing the workflow.
 */
export async function graph<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    const cause = err.cause;
    if (cause instanceof ApplicationFailure && cause.type === FailureType.SignupCodeRejected) throw err;
    throw new NeedsAttention(describeFailure(err));
  }
}

/**
 * The bounded read gave up because Meta throttles it for longer than the bound: its next attempt, at
 * the time Meta asked for, would not fit (TIMEOUT). A throttle that keeps coming back within the bound
 * uses up the attempts instead, and parks like any fault that never clears.
 */
function throttledPastTheBound(err: unknown): boolean {
  if (!(err instanceof ActivityFailure) || err.retryState !== 'TIMEOUT') return false;
  return err.cause instanceof ApplicationFailure && err.cause.type === FailureType.GraphThrottled;
}

/** The reason Meta gave for refusing a signup code, or undefined if the error is something else. */
export function signupCodeRejection(err: unknown): string | undefined {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === FailureType.SignupCodeRejected) {
    return err.cause.message;
  }
  return undefined;
}

function describeFailure(err: ActivityFailure): string {
  const cause = err.cause;
  if (cause instanceof ApplicationFailure) {
    switch (cause.type) {
      case FailureType.GraphNeedsAttention:
        return attentionReasons.graphNeedsAttention(cause.message);
      case FailureType.GraphRequestRejected:
        return attentionReasons.graphRefused(cause.message);
    }
  }
  return attentionReasons.graphKeptFailing(err.activityType, cause?.message ?? err.message);
}
