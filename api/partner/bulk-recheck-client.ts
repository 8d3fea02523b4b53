/**
 * What the API asks of Temporal about bulk rechecks (workflows/bulk-recheck.ts): start one for a
 * filter unless one runs, and read its progress, each call under the API's deadlines.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Config } from '../../config';
import {
  bulkRecheckWorkflowId,
  parkedOnboardingsQuery,
  type BulkRecheckFilter,
  type BulkRecheckInput,
  type BulkRecheckState,
  type BulkRecheckStatus,
} from '../../workflows/bulk-recheck-types';
import { getBulkRecheckStateQuery } from '../../workflows/messages';
import { ApiError } from '../http/errors';
import type { OnboardingClient, TemporalTimeouts } from './onboarding-client';
import type { CountRuns } from './onboarding-summary';

export class BulkRecheckClient {
  constructor(
    private readonly client: Client,
    private readonly config: Config,
    private readonly calls: Pick<OnboardingClient, 'within' | 'startUnlessRunning' | 'pollers'>,
    private readonly timeouts: TemporalTimeouts,
    private readonly count: CountRuns,
  ) {}

  /** Counts what the filter matches now and starts its bulk recheck, unless one runs for the filter. */
  async start(filter: BulkRecheckFilter): Promise<{ started: boolean; input: BulkRecheckInput }> {
    const matched = await this.count(parkedOnboardingsQuery(filter));
    const input: BulkRecheckInput = { ...filter, matched };
    const { started } = await this.calls.startUnlessRunning('bulkRecheck', {
      workflowId: bulkRecheckWorkflowId(filter),
      taskQueue: this.config.temporal.taskQueue,
      args: [input],
      staticSummary: `Bulk recheck of the NEEDS_ATTENTION onboardings of business ${filter.businessId ?? 'any'}, reason kind ${filter.reasonKind ?? 'any'}`,
    });
    return { started, input };
  }

  /** The filter's latest bulk recheck: its query while it runs, its result once completed. `fallback` answers for a run too new to answer. */
  async state(id: string, fallback?: BulkRecheckState): Promise<BulkRecheckState> {
    const handle = this.client.workflow.getHandle(id);
    const description = await this.calls.within('describe', this.timeouts.callMs, () => handle.describe()).catch((err: unknown) => {
      throw err instanceof WorkflowNotFoundError ? new ApiError(404, 'not_found', `no bulk recheck ${id}`) : err;
    });
    if (description.status.name === 'COMPLETED') return this.calls.within('result', this.timeouts.callMs, () => handle.result());
    let state: BulkRecheckState;
    try {
      state = await this.calls.pollers.query(handle, `bulk recheck ${id}`, this.timeouts.queryMs, () => handle.query(getBulkRecheckStateQuery));
    } catch (err) {
      if (!fallback) throw err;
      state = fallback;
    }
    // A run that closed without saying (terminated, timed out) still answers RUNNING from its last state.
    const closed = description.status.name;
    return closed === 'RUNNING' ? state : { ...state, status: (['TERMINATED', 'TIMED_OUT', 'CANCELLED', 'FAILED'].includes(closed) ? closed : state.status) as BulkRecheckStatus };
  }
}
