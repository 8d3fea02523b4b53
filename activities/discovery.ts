import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Config } from '../config';
import { DISCOVERABLE_STATUS, type DiscoveredWaba, type PageStartOutcome } from '../workflows/discovery-types';
import { onboardingStartOptions } from '../workflows/start-options';
import { isMetaId, type OnboardingInput, type OnboardingOptions, type OnboardingPath } from '../workflows/types';
import type { GraphClient } from '../graph';
import { classified } from './graph-failures';
import { joinIntent } from './business-intent';
import { mapInBatches } from './batches';
import { isTemporalUnreachable } from './temporal-errors';
import { cloudApiNumbersOf } from './onboarding-graph';
import { withDiscoveryRunId } from './discovery-run-id';

/** Starts in flight at once: quick for a page of 100, gentle on the Temporal frontend. */
export const START_CONCURRENCY = 48;

export interface StartDiscoveredInput {
  /** Names this page of this discovery; written into each started onboarding's memo. */
  discoveryKey: string;
  wabas: DiscoveredWaba[];
  path: OnboardingPath;
  options?: OnboardingOptions;
}

/**
 * The discovery's steps: one Graph page, and starting that page's onboardings. `eagerStarter`, a
 * client on the workers' own NativeConnection, starts them eagerly: each one's first task comes back
 * with the start instead of waiting on the queue.
 */
export function createDiscoveryActivities(graph: GraphClient, client: Client, config: Config, eagerStarter?: Client) {
  const starter = eagerStarter ?? client;
  return {
    /** One page of the portfolio's ELIGIBLE client WABAs, each under its owner business (the portfolio where Meta names none). */
    async listEligibleClientWabas({ portfolioId, after, pageSize }: { portfolioId: string; after?: string; pageSize: number }) {
      const page = await classified(() => graph.listClientWabasPage(portfolioId, { statuses: [DISCOVERABLE_STATUS], after, limit: pageSize }));
      return {
        wabas: page.wabas.map((w): DiscoveredWaba => {
          const numbers = w.phoneNumbers && cloudApiNumbersOf(w.phoneNumbers.numbers);
          // A registered number settles the check; none registered does only if that was every number.
          const settled = numbers && (numbers.registered > 0 || w.phoneNumbers!.complete);
          return { wabaId: w.id, businessId: w.ownerBusinessId ?? portfolioId, ...(settled ? { numbers } : {}) };
        }),
        ...(page.after !== undefined ? { after: page.after } : {}),
      };
    },

    /**
     * Starts an onboarding for each WABA unless one is running (left alone). Idempotent: on a retry
     * (the previous attempt crashed part-way) an onboarding whose memo names this page counts as
     * started by it, and is not started again even if it has ended meanwhile.
     *
     * On the Intent path it then puts the started WABAs on their business's Intent request, one signal
     * per business rather than one activity per WABA; the onboardings know (`intentJoined`) and wait
     * for the answer. A retry joins them again, which is harmless.
     */
    async startDiscoveredOnboardings({ discoveryKey, wabas, path, options }: StartDiscoveredInput): Promise<PageStartOutcome> {
      const context = Context.current();
      const retried = context.info.attempt > 1;
      const outcome: PageStartOutcome = { started: 0, alreadyRunning: 0, failed: 0 };

      let eagerlyStarted = 0;
      const startOne = async ({ wabaId, businessId, numbers }: DiscoveredWaba): Promise<'started' | 'alreadyRunning' | 'failed'> => {
        // Graph's ids are read as any string; one that is not a Meta id would not fit a visibility row.
        if (!isMetaId(wabaId) || !isMetaId(businessId)) {
          context.log.warn('discovery skipped a WABA whose ids are not Meta ids', { wabaId: wabaId.slice(0, 64), businessId: businessId.slice(0, 64) });
          return 'failed';
        }
        const input: OnboardingInput = {
          wabaId,
          businessId,
          path,
          origin: 'discovery',
          listedStatus: DISCOVERABLE_STATUS, // the page was filtered on it: no need to read it again
          ...(numbers ? { listedNumbers: numbers } : {}),
          ...(path === 'intent' ? { intentJoined: true } : {}),
          ...(options ? { options } : {}),
        };
        const start = withDiscoveryRunId(onboardingStartOptions(input, config), discoveryKey);
        if (retried) {
          const earlier = await client.workflow
            .getHandle(start.workflowId)
            .describe()
            .catch((err: unknown) => {
              if (err instanceof WorkflowNotFoundError) return undefined;
              throw err;
            });
          if (earlier?.memo?.discovery === discoveryKey) return 'started';
          if (earlier?.status.name === 'RUNNING') return 'alreadyRunning';
        }
        try {
          const handle = await starter.workflow.start('onboarding', {
            ...start,
            requestEagerStart: eagerStarter !== undefined,
            memo: { discovery: discoveryKey },
            workflowIdConflictPolicy: 'FAIL',
            workflowIdReusePolicy: 'ALLOW_DUPLICATE',
          });
          if (handle.eagerlyStarted) eagerlyStarted++;
          return 'started';
        } catch (err) {
          if (err instanceof WorkflowExecutionAlreadyStartedError) return 'alreadyRunning';
          if (isTemporalUnreachable(err)) throw err; // the whole page is retried
          context.log.warn('discovery could not start an onboarding', { wabaId, error: (err as Error).message });
          return 'failed';
        }
      };

      // A discovery of thousands would otherwise bury every other run's tasks (an operator's recheck,
      // a partner's new onboarding) behind its pages' first tasks.
      await workersCaughtUp(client, config.temporal, config.discoveryMaxTaskBacklog, {
        sleep: (ms) => context.sleep(ms),
        // What the page waits for, in the Web UI's pending activity (its heartbeat details).
        waiting: (backlog, limit) => context.heartbeat({ waitingForWorkers: { backlog, limit } }),
        unreadable: (err) => context.log.warn('discovery cannot read the task queue backlog; starting the page unpaced', { error: (err as Error).message }),
      });
      const results = await mapInBatches(wabas, START_CONCURRENCY, startOne, (done) => context.heartbeat({ started: done, of: wabas.length }));
      const startedOf = new Map<string, string[]>(); // business id → its WABAs started by this page
      for (const [i, result] of results.entries()) {
        outcome[result]++;
        if (result !== 'started') continue;
        const { businessId, wabaId } = wabas[i];
        if (!startedOf.has(businessId)) startedOf.set(businessId, []);
        startedOf.get(businessId)!.push(wabaId);
      }
      if (path === 'intent') {
        // A join that cannot reach Temporal fails the activity: the whole page is retried, joins included.
        const joins = [...startedOf].map(([businessId, wabaIds]) => ({ businessId, wabaIds, solutionId: options?.solutionId }));
        await mapInBatches(joins, START_CONCURRENCY, (join) => joinIntent(client, config.temporal.taskQueue, join), (done) =>
          context.heartbeat({ businessesJoined: done, of: joins.length }),
        );
      }
      return eagerlyStarted ? { ...outcome, eagerlyStarted } : outcome;
    },
  };
}

/** A page waits for the workers at most this long: well inside the start activity's 5-minute limit. */
const MAX_BACKLOG_WAIT_MS = 3 * 60_000;
const BACKLOG_PROBE_MS = 1_000;
const WORKFLOW_TASK_QUEUE_TYPE = 1;

/**
 * Waits until the workers have caught up: the task queue's workflow-task backlog (Temporal's own
 * statistics) at most `limit`. A server that will not describe the queue (permissions, an old
 * version) only loses the pacing. Ceiling: one probe a second for at most MAX_BACKLOG_WAIT_MS, then
 * the caller goes on anyway.
 */
export async function workersCaughtUp(
  client: Client,
  queue: { namespace: string; taskQueue: string },
  limit: number,
  on: { sleep(ms: number): Promise<void>; waiting?(backlog: number, limit: number): void; unreadable?(err: unknown): void },
): Promise<void> {
  const deadline = Date.now() + MAX_BACKLOG_WAIT_MS;
  for (;;) {
    const backlog = await workflowTaskBacklog(client, queue.namespace, queue.taskQueue).catch((err: unknown) => {
      on.unreadable?.(err);
      return undefined;
    });
    if (backlog === undefined || backlog <= limit || Date.now() >= deadline) return;
    on.waiting?.(backlog, limit);
    await on.sleep(BACKLOG_PROBE_MS);
  }
}

/** Workflow tasks waiting on the queue's normal partitions; undefined from a server that reports no statistics. */
export async function workflowTaskBacklog(client: Client, namespace: string, taskQueue: string): Promise<number | undefined> {
  const { stats } = await client.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: WORKFLOW_TASK_QUEUE_TYPE,
    reportStats: true,
  });
  return stats ? Number(stats.approximateBacklogCount ?? 0) : undefined;
}
