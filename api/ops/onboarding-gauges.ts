/**
 * Gauges of the onboardings themselves, read from Temporal visibility when /metrics is scraped (one
 * count per status, and the stale count). The counts are kept at most COUNTS_MAX_AGE_MS and refreshed
 * one set at a time, so scrapes (however many, however concurrent) cost Temporal at most one set of
 * counts every few seconds.
 *   mm_onboardings{status}               running onboardings by status (NEEDS_ATTENTION: alert on > 0)
 *   mm_onboardings_needs_attention{reason_kind}  the NEEDS_ATTENTION ones by reason kind (counted only when any is parked)
 *   mm_onboardings_awaiting_terms_stale  AWAITING_TERMS whose run started more than STALE_AFTER_DAYS ago
 *   mm_onboarding_runs_by_build{build}   running onboardings pinned to each build of the workers' deployment
 *                                        (TemporalWorkerDeploymentVersion, `deployment:buildId`): a release
 *                                        is done when every build but the current one is at 0
 *   mm_onboardings_count_errors_total    refreshes of the counts that Temporal did not answer
 */
import { isGrpcServiceError, type Client } from '@temporalio/client';
import { Counter, Gauge, type Registry } from 'prom-client';
import { versionLabel } from '../../temporal/deployment-version';
import { OnboardingReasonKindKey, OnboardingStatusKey } from '../../temporal/search-attributes';
import { ATTENTION_KINDS } from '../../workflows/attention-kinds';
import { ONBOARDING_STATUSES } from '../../workflows/types';
import { callWithin } from '../http/temporal-deadline';
import { ONBOARDING_WORKFLOW_TYPE } from '../partner/onboarding-list';
import { SharedAnswers } from '../http/shared-answers';

export const STALE_AFTER_DAYS = 7;
const COUNT_DEADLINE_MS = 2_000;
/** How old the counts a scrape shows may be: a few seconds, far below any alert's window. */
export const COUNTS_MAX_AGE_MS = 5_000;

interface OnboardingCounts {
  byStatus: number[];
  /** Per ATTENTION_KINDS entry; all 0 (not asked) when none is parked. */
  needsAttentionByKind: number[];
  staleAwaitingTerms: number;
  /** Running onboardings by the version label of each build the deployment has. */
  byBuild: Array<[string, number]>;
}

const NEEDS_ATTENTION_INDEX = ONBOARDING_STATUSES.indexOf('NEEDS_ATTENTION');

/** The builds of the workers' deployment, as `deployment:buildId`; none while the deployment does not exist yet. */
async function deploymentBuilds(client: Client, namespace: string, deploymentName: string): Promise<string[]> {
  try {
    const { workerDeploymentInfo } = await callWithin(client, COUNT_DEADLINE_MS, () =>
      client.workflowService.describeWorkerDeployment({ namespace, deploymentName }),
    );
    const builds = (workerDeploymentInfo?.versionSummaries ?? []).flatMap((s) => (s.deploymentVersion?.buildId ? [s.deploymentVersion.buildId] : []));
    // Each label goes into a visibility query: only the characters a version is made of.
    return builds.map((buildId) => versionLabel({ deploymentName, buildId })).filter((label) => /^[\w.:+/-]{1,255}$/.test(label));
  } catch (err) {
    if (isGrpcServiceError(err) && err.code === 5) return []; // NOT_FOUND: no worker has polled yet
    throw err;
  }
}

export function registerOnboardingGauges(registry: Registry, client: Client, namespace: string, deploymentName: string): void {
  const registers = [registry];
  const running = `WorkflowType = '${ONBOARDING_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`;
  const count = async (query: string) => {
    const { count: n } = await callWithin(client, COUNT_DEADLINE_MS, () =>
      client.workflowService.countWorkflowExecutions({ namespace, query }),
    );
    return Number(n ?? 0);
  };
  const errors = new Counter({
    name: 'mm_onboardings_count_errors_total',
    help: 'Refreshes of the onboarding gauges that Temporal visibility did not answer',
    registers,
  });
  const shared = new SharedAnswers<OnboardingCounts>(COUNTS_MAX_AGE_MS);
  const refresh = async (): Promise<OnboardingCounts> => {
    const since = new Date(Date.now() - STALE_AFTER_DAYS * 86_400_000).toISOString();
    try {
      const [byStatus, staleAwaitingTerms, byBuild] = await Promise.all([
        Promise.all(ONBOARDING_STATUSES.map((status) => count(`${running} AND ${OnboardingStatusKey.name} = '${status}'`))),
        count(`${running} AND ${OnboardingStatusKey.name} = 'AWAITING_TERMS' AND StartTime < '${since}'`),
        // Visibility groups counts by ExecutionStatus only: one count per build (a deployment keeps a few).
        deploymentBuilds(client, namespace, deploymentName).then((builds) =>
          Promise.all(builds.map(async (build): Promise<[string, number]> => [build, await count(`${running} AND TemporalWorkerDeploymentVersion = '${build}'`)])),
        ),
      ]);
      // The kinds cost one count each, so they are asked only while some onboarding is parked.
      const parked = `${running} AND ${OnboardingStatusKey.name} = 'NEEDS_ATTENTION'`;
      const needsAttentionByKind =
        byStatus[NEEDS_ATTENTION_INDEX] > 0
          ? await Promise.all(ATTENTION_KINDS.map((kind) => count(`${parked} AND ${OnboardingReasonKindKey.name} = '${kind}'`)))
          : ATTENTION_KINDS.map(() => 0);
      return { byStatus, needsAttentionByKind, staleAwaitingTerms, byBuild };
    } catch (err) {
      errors.inc();
      throw err;
    }
  };
  const counts = { get: () => shared.get('onboarding counts', refresh) };
  new Gauge({
    name: 'mm_onboardings',
    help: 'Running onboardings by status, from Temporal visibility',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      // A failed refresh keeps the last figures and is counted once in mm_onboardings_count_errors_total.
      const now = await counts.get().catch(() => undefined);
      if (now) ONBOARDING_STATUSES.forEach((status, i) => this.set({ status }, now.byStatus[i]));
    },
  });
  new Gauge({
    name: 'mm_onboardings_needs_attention',
    help: 'Running onboardings in NEEDS_ATTENTION by reason kind (OnboardingReasonKind), from Temporal visibility',
    labelNames: ['reason_kind'] as const,
    registers,
    async collect() {
      const now = await counts.get().catch(() => undefined);
      if (now) ATTENTION_KINDS.forEach((reason_kind, i) => this.set({ reason_kind }, now.needsAttentionByKind[i]));
    },
  });
  new Gauge({
    name: 'mm_onboardings_awaiting_terms_stale',
    help: `Onboardings in AWAITING_TERMS whose run started more than ${STALE_AFTER_DAYS} days ago`,
    registers,
    async collect() {
      const now = await counts.get().catch(() => undefined);
      if (now) this.set(now.staleAwaitingTerms);
    },
  });
  new Gauge({
    name: 'mm_onboarding_runs_by_build',
    help: "Running onboardings pinned to each build of the workers' deployment (TemporalWorkerDeploymentVersion), from Temporal visibility",
    labelNames: ['build'] as const,
    registers,
    async collect() {
      const now = await counts.get().catch(() => undefined);
      if (!now) return;
      this.reset(); // a deleted build's line ends
      for (const [build, n] of now.byBuild) this.set({ build }, n);
    },
  });
}
