/**
 * Starts and signals the baseline's trivial workflows from the baseline's worker process, the way the
 * service's onboardings are started and signalled, so the two do the same signals and timers:
 * - in pages of a discovery's size, each page once the task queue's backlog is down to a discovery's
 *   limit (the discovery's own pacing, `workersCaughtUp`);
 * - eagerly, on the worker's own connection, as the discovery's activity starts onboardings;
 * - the intent answer once the run's first task is done (the workflow's sink says so), and the terms
 *   `signAfterMs` after it, as the sandbox signs them after a business's Intent request.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { mapInBatches } from '../activities/batches';
import { START_CONCURRENCY, workersCaughtUp } from '../activities/discovery';
import { DEFAULT_DISCOVERY_MAX_TASK_BACKLOG } from '../config';
import { DEFAULT_DISCOVERY_PAGE_SIZE } from '../workflows/discovery-types';
import { limiter } from './common';
import { intentRequested, termsSigned, trivialOnboarding } from './trivial-workflow';

/** What the bench asks of the baseline's worker process (JSON in its environment). */
export interface TrivialRunsPlan {
  idPrefix: string;
  count: number;
  graceSeconds: number;
  signAfterMs: number;
  /** Nothing starts later than this after the go: the bench's phase limit. */
  maxMs: number;
}

export const trivialWorkflowIds = ({ idPrefix, count }: TrivialRunsPlan) => Array.from({ length: count }, (_, i) => `${idPrefix}${i}`);

export function createTrivialDriver(client: Client, taskQueue: string, plan: TrivialRunsPlan, fail: (err: unknown) => void) {
  const signals = limiter(START_CONCURRENCY);
  return {
    /** The sink's call: the run's intent answer now, its terms signAfterMs later. */
    firstTaskDone(workflowId: string): void {
      const handle = client.workflow.getHandle(workflowId);
      void (async () => {
        await signals(() => handle.signal(intentRequested));
        await sleep(plan.signAfterMs);
        await signals(() => handle.signal(termsSigned));
      })().catch(fail);
    },

    /** Starts every run, a page at a time. */
    async startAll(): Promise<void> {
      const workflowIds = trivialWorkflowIds(plan);
      const deadline = Date.now() + plan.maxMs;
      for (let first = 0; first < workflowIds.length && Date.now() < deadline; first += DEFAULT_DISCOVERY_PAGE_SIZE) {
        await workersCaughtUp(client, { namespace: client.options.namespace, taskQueue }, DEFAULT_DISCOVERY_MAX_TASK_BACKLOG, { sleep });
        // In batches, as the discovery's start activity starts a page.
        await mapInBatches(
          workflowIds.slice(first, first + DEFAULT_DISCOVERY_PAGE_SIZE),
          START_CONCURRENCY,
          (workflowId) => client.workflow.start(trivialOnboarding, { workflowId, taskQueue, args: [plan.graceSeconds], requestEagerStart: true }),
          () => {},
        );
      }
    },
  };
}

