/**
 * What the API asks of Temporal about discoveries: start one (one at a time per portfolio, by its
 * workflow id), read its progress, and keep the Temporal Schedule that repeats it.
 */
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  WorkflowNotFoundError,
  type Client,
  type ScheduleOptionsStartWorkflowAction,
  type ScheduleUpdateOptions,
} from '@temporalio/client';
import type { Config } from '../../config';
import {
  discoveryScheduleId,
  repeatDiscoveryWorkflowId,
  type DiscoveryInput,
  type DiscoveryState,
} from '../../workflows/discovery-types';
import type { repeatDiscovery } from '../../workflows/discovery';
import { getDiscoveryStateQuery } from '../../workflows/messages';
import { discoveryStartOptions } from '../../workflows/start-options';
import { ApiError } from '../http/errors';
import type { OnboardingClient } from './onboarding-client';
import type { TemporalTimeouts } from './onboarding-client';
import { discoveryOutcomes, statusOfClosedRun, type DiscoveryOutcomes } from './discovery-outcomes';
import type { CountRuns } from './onboarding-summary';

type DiscoverySchedule = NonNullable<DiscoveryState['schedule']>;

export class DiscoveryClient {
  constructor(
    private readonly client: Client,
    private readonly config: Config,
    /** Deadline and timing of each Temporal call, and the check of a run's build, shared with the onboardings' client. */
    private readonly calls: Pick<OnboardingClient, 'within' | 'startUnlessRunning' | 'pollers'>,
    private readonly timeouts: TemporalTimeouts,
    /** Visibility counts, for what became of the onboardings a discovery started. */
    private readonly count: CountRuns,
  ) {}

  /** Starts the portfolio's discovery unless one is running; returns whether this call started it. */
  start(input: DiscoveryInput): Promise<{ started: boolean }> {
    return this.calls.startUnlessRunning('discovery', { ...discoveryStartOptions(input), taskQueue: this.config.temporal.taskQueue });
  }

  /**
   * The discovery's latest run: its own query while it runs, its result once it has completed, and
   * the schedule repeating it, if any. `fallback` answers for a run too new to have answered yet.
   */
  async state(id: string, fallback?: DiscoveryState): Promise<DiscoveryState & { onboardings: DiscoveryOutcomes }> {
    const handle = this.client.workflow.getHandle(id);
    const description = await this.calls.within('describe', this.timeouts.callMs, () => handle.describe()).catch((err: unknown) => {
      throw err instanceof WorkflowNotFoundError ? new ApiError(404, 'not_found', `no discovery ${id}`) : err;
    });
    let state: DiscoveryState;
    if (description.status.name === 'COMPLETED') {
      state = await this.calls.within('result', this.timeouts.callMs, () => handle.result());
    } else {
      try {
        // A run whose build has no worker polling: 503 temporarily_unavailable within the query's deadline.
        state = await this.calls.pollers.query(handle, `discovery ${id}`, this.timeouts.queryMs, () => handle.query(getDiscoveryStateQuery));
      } catch (err) {
        if (!fallback) throw err;
        state = fallback;
      }
      state = { ...state, status: statusOfClosedRun(state, description.status.name) };
    }
    const firstRunId = description.raw.workflowExecutionInfo?.firstRunId || description.runId;
    const [schedule, onboardings] = await Promise.all([this.schedule(state.businessId), discoveryOutcomes(this.count, firstRunId)]);
    return { ...state, onboardings, ...(schedule ? { schedule } : {}) };
  }

  /** Creates (or re-times) the Temporal Schedule that runs the discovery again every `everySeconds`. */
  async keepRepeating(input: DiscoveryInput, everySeconds: number): Promise<DiscoverySchedule> {
    const scheduleId = discoveryScheduleId(input.businessId);
    const definition: ScheduleUpdateOptions<ScheduleOptionsStartWorkflowAction<typeof repeatDiscovery>> = {
      spec: { intervals: [{ every: `${everySeconds}s` }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'repeatDiscovery',
        workflowId: repeatDiscoveryWorkflowId(input.businessId),
        taskQueue: this.config.temporal.taskQueue,
        args: [input],
      },
      // One run at a time; after an outage, one catch-up run rather than a burst.
      policies: { overlap: 'SKIP', catchupWindow: `${everySeconds}s` },
      state: { note: `Repeats the discovery of portfolio ${input.businessId} (POST /v1/discoveries)` },
    };
    await this.calls.within('schedule', this.timeouts.callMs, async () => {
      try {
        await this.client.schedule.create({ scheduleId, ...definition });
      } catch (err) {
        if (!(err instanceof ScheduleAlreadyRunning)) throw err;
        await this.client.schedule.getHandle(scheduleId).update(() => definition);
      }
    });
    return { id: scheduleId, everySeconds };
  }

  /** The schedule repeating the portfolio's discovery, if there is one. */
  private async schedule(businessId: string): Promise<DiscoverySchedule | undefined> {
    const id = discoveryScheduleId(businessId);
    try {
      const description = await this.calls.within('describeSchedule', this.timeouts.callMs, () => this.client.schedule.getHandle(id).describe());
      const every = description.spec.intervals?.[0]?.every;
      return every === undefined ? undefined : { id, everySeconds: Math.round(Number(every) / 1000) };
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return undefined;
      throw err;
    }
  }
}

