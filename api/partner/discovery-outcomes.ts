/**
 * What became of the onboardings a discovery started, counted through Temporal visibility by the
 * `DiscoveryRunId` each one carries from its start (activities/discovery-run-id.ts): one count per
 * figure, whatever the portfolio's size. Visibility trails the runs by a moment.
 */
import { DiscoveryRunIdKey, OnboardingStatusKey } from '../../temporal/search-attributes';
import type { DiscoveryState, DiscoveryStatus } from '../../workflows/discovery-types';
import { ONBOARDING_WORKFLOW_TYPE } from './onboarding-list';
import type { CountRuns } from './onboarding-summary';

export interface DiscoveryOutcomes {
  /** READY: sending through /marketing_messages. */
  ready: number;
  /** AWAITING_TERMS: waiting for the business to accept the terms (its part, not ours). */
  awaitingTerms: number;
  /** NEEDS_ATTENTION: a person must act (GET /v1/onboardings?status=NEEDS_ATTENTION lists why). */
  needsAttention: number;
  /** Ended (INELIGIBLE, CANCELLED, EXPIRED, OFFBOARDED). */
  ended: number;
  /** Still on their way (checking, requesting intent, syncing templates...). 0 means settled. */
  inProgress: number;
}

export async function discoveryOutcomes(count: CountRuns, discoveryRunId: string): Promise<DiscoveryOutcomes> {
  const mine = `WorkflowType = '${ONBOARDING_WORKFLOW_TYPE}' AND ${DiscoveryRunIdKey.name} = '${quoted(discoveryRunId)}'`;
  const running = `${mine} AND ExecutionStatus = 'Running'`;
  const inStatus = (status: string) => count(`${running} AND ${OnboardingStatusKey.name} = '${status}'`);
  const [ready, awaitingTerms, needsAttention, ended, allRunning] = await Promise.all([
    inStatus('READY'),
    inStatus('AWAITING_TERMS'),
    inStatus('NEEDS_ATTENTION'),
    count(`${mine} AND ExecutionStatus != 'Running' AND ExecutionStatus != 'ContinuedAsNew'`),
    count(running),
  ]);
  return { ready, awaitingTerms, needsAttention, ended, inProgress: Math.max(0, allRunning - ready - awaitingTerms - needsAttention) };
}

/**
 * A discovery's status from its execution when the run closed without saying (terminated, timed
 * out): its last query answer would still say RUNNING.
 */
export function statusOfClosedRun(state: DiscoveryState, executionStatus: string): DiscoveryStatus {
  if (executionStatus === 'TERMINATED' || executionStatus === 'TIMED_OUT' || executionStatus === 'CANCELLED') return executionStatus;
  if (executionStatus === 'FAILED') return 'FAILED';
  return state.status;
}

/** Run ids are UUIDs; anything else is refused rather than put in a query. */
function quoted(runId: string): string {
  if (!/^[0-9a-zA-Z-]{1,64}$/.test(runId)) throw new Error(`unexpected run id ${JSON.stringify(runId)}`);
  return runId;
}
