/**
 * The API's answer when a run cannot answer because no worker of its build polls (its build's
 * workers stopped before the run moved to the current build): 503 `temporarily_unavailable` within
 * a few seconds, instead of a 500, a state without its history, or an update that hangs until its
 * 30 s deadline.
 *
 * Nothing here costs a call on the happy path (Temporal Cloud bills every query and update): only a
 * query that failed, or an update not accepted within `acceptMs` (a polling build accepts one in
 * milliseconds), makes the API ask whether the run's build polls (temporal/run-build.ts).
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { runBuild, taskQueueWorkers, type RunBuild, type TaskQueueWorkers } from '../../temporal/run-build';
import { BuildNotPollingError, isNoPollerSeen, isTemporalUnavailable } from './errors';
import { SharedAnswers } from './shared-answers';
import { callWithin } from './temporal-deadline';

/** At most this much of a query's deadline is kept for the check (a few describes, milliseconds each when Temporal is well). */
export const POLLER_CHECK_MS = 1_000;
/** A task queue's workers, shared by the checks of the runs stuck at the same moment (a burst of sends). */
const WORKERS_MEMORY_MS = 2_000;

type TimeTemporal = <T>(operation: string, call: () => Promise<T>) => Promise<T>;

const SLOW = Symbol('slow');

export class BuildPollers {
  private readonly workers = new SharedAnswers<TaskQueueWorkers>(WORKERS_MEMORY_MS);

  constructor(
    private readonly client: Client,
    private readonly namespace: string,
    /** Times each describe in the API's Temporal-call metrics. */
    private readonly time: TimeTemporal,
  ) {}

  /** The run's build when no worker of it polls; undefined when one does, or when that cannot be told (the run is gone, Temporal slow). */
  async notPolling(handle: WorkflowHandle, withinMs = POLLER_CHECK_MS): Promise<RunBuild | undefined> {
    try {
      return await callWithin(this.client, withinMs, async () => {
        const description = await this.time('describe', () => handle.describe());
        const { taskQueue } = description;
        const workers = await this.workers.get(taskQueue, () =>
          this.time('describeTaskQueue', () => taskQueueWorkers(this.client, this.namespace, taskQueue)),
        );
        const build = runBuild(description, workers);
        return build.polling ? undefined : build;
      });
    } catch {
      return undefined; // not knowing is no verdict: the caller's own answer stands
    }
  }

  /**
   * A query of the run of `handle`, timed as one `query` call, all within `ms`: if the run does not
   * answer, part of `ms` is kept to ask whether its build polls. BuildNotPollingError when the server
   * says no worker took the query, or when it ran out of time and no worker of the run's build polls
   * (a worker that refuses a query polls); the query's own error otherwise.
   */
  async query<T>(handle: WorkflowHandle, subject: string, ms: number, query: () => Promise<T>): Promise<T> {
    const checkMs = Math.min(POLLER_CHECK_MS, Math.floor(ms / 5));
    return this.time('query', async () => {
      try {
        return await callWithin(this.client, ms - checkMs, query);
      } catch (err) {
        if (isNoPollerSeen(err)) throw new BuildNotPollingError(subject);
        if (!isTemporalUnavailable(err)) throw err;
        const build = await this.notPolling(handle, checkMs);
        throw build ? new BuildNotPollingError(subject, build.buildId) : err;
      }
    });
  }

  /**
   * Starts an update on the run of `handle` and waits for it to be accepted (`start` sends it with
   * `waitForStage: ACCEPTED`), then returns what `start` returned. Not accepted within `acceptMs`,
   * the API asks whether the run's build polls: if not, nothing can accept the update until the run
   * moves, so the call is cancelled and BuildNotPollingError thrown. The server keeps the update and
   * delivers it once the run polls again (seen in test/api/partner/old-build-answers.test.ts), so
   * the answer says it may still take effect; every update the API sends is safe to repeat. If the
   * build polls, its workers are only busy, and the call goes on to its own deadline.
   */
  async accepted<U>(handle: WorkflowHandle, subject: string, acceptMs: number, start: () => Promise<U>): Promise<U> {
    const cancel = new AbortController();
    const accepted = this.client.withAbortSignal(cancel.signal, start);
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<typeof SLOW>((resolve) => {
      timer = setTimeout(() => resolve(SLOW), acceptMs);
    });
    try {
      if ((await Promise.race([accepted, slow])) !== SLOW) return accepted;
    } finally {
      clearTimeout(timer);
    }
    // Acceptance may still come while the check runs: it wins.
    const verdict = await Promise.race([accepted.then(() => undefined), this.notPolling(handle)]);
    if (!verdict) return accepted;
    accepted.catch(() => undefined); // cancelled below: its rejection is expected
    cancel.abort();
    throw new BuildNotPollingError(subject, verdict.buildId, true);
  }
}
