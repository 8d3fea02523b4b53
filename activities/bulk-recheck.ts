/**
 * A bulk recheck's page (workflows/bulk-recheck.ts): lists the next page of parked onboardings the
 * filter covers, and asks each for a recheck, as the API's POST /v1/onboardings/<wabaId>/recheck
 * does, but only up to the update's acceptance: the onboarding then reads Meta's status on its own.
 * Paced at `perSecond`; each update id is stable, so a retried page asks no WABA twice.
 */
import { Context, sleep } from '@temporalio/activity';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateStage, type Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { z } from 'zod';
import { WabaIdKey } from '../temporal/search-attributes';
import { parkedOnboardingsQuery, type BulkRecheckFilter, type RecheckPageOutcome } from '../workflows/bulk-recheck-types';
import { recheckUpdate } from '../workflows/messages';
import { onboardingWorkflowId } from '../workflows/types';

/** How long one WABA's recheck may take to be accepted: a run whose build has no worker polling is counted failed after it. */
const ACCEPT_DEADLINE_MS = 5_000;
/** Long enough for a handle's known outcome to decode (no call), far shorter than a status read. */
const KNOWN_OUTCOME_MS = 250;

export interface RecheckPageRequest {
  filter: BulkRecheckFilter;
  pageToken?: string;
  pageSize: number;
  perSecond: number;
  updateIdPrefix: string;
}

type Result = 'asked' | 'refused' | 'skipped' | 'failed';

/** The page's progress (its heartbeat): the WABAs done and what each came to, so a retry goes on from there. */
const pageProgress = z.object({ done: z.record(z.string(), z.enum(['asked', 'refused', 'skipped', 'failed'])) });

export function createBulkRecheckActivities(client: Client) {
  async function recheckOne(wabaId: string, updateId: string): Promise<Result> {
    const handle = client.workflow.getHandle(onboardingWorkflowId(wabaId));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ACCEPT_DEADLINE_MS + 1_000)));
    try {
      const accepted = client.withDeadline(Date.now() + ACCEPT_DEADLINE_MS, () =>
        handle.startUpdate(recheckUpdate, { updateId, waitForStage: WorkflowUpdateStage.ACCEPTED }),
      );
      accepted.catch(() => undefined); // not waited for past the deadline
      const update = await Promise.race([accepted, late]);
      if (update === 'late') return 'failed';
      return await refusedOrAsked(update);
    } catch (err) {
      // The onboarding's validator: its daily read budget is spent, or it has ended.
      if (err instanceof WorkflowUpdateFailedError) return 'refused';
      if (err instanceof WorkflowNotFoundError) return 'skipped';
      return 'failed';
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * An update the validator rejected comes back from startUpdate as a handle whose outcome is already
   * known: its result fails at once, with no call. An accepted one is still running (its read takes a
   * moment): the poll for its outcome is cut short, and it counts as asked.
   */
  async function refusedOrAsked(update: { result(): Promise<unknown> }): Promise<'refused' | 'asked'> {
    const cut = new AbortController();
    const timer = setTimeout(() => cut.abort(), KNOWN_OUTCOME_MS);
    try {
      await client.withAbortSignal(cut.signal, () => update.result());
      return 'asked';
    } catch (err) {
      return err instanceof WorkflowUpdateFailedError ? 'refused' : 'asked';
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async recheckParkedPage(request: RecheckPageRequest): Promise<RecheckPageOutcome> {
      const context = Context.current();
      const { filter, pageToken, pageSize, perSecond, updateIdPrefix } = request;
      const response = await client.workflowService.listWorkflowExecutions({
        namespace: context.info.workflowNamespace,
        query: parkedOnboardingsQuery(filter),
        pageSize,
        nextPageToken: pageToken ? Buffer.from(pageToken, 'base64') : undefined,
      });
      const wabaIds = response.executions.map((e) => {
        const field = e.searchAttributes?.indexedFields?.[WabaIdKey.name];
        const value: unknown = field ? defaultPayloadConverter.fromPayload(field) : undefined;
        const id = Array.isArray(value) ? value[0] : value;
        return typeof id === 'string' ? id : (e.execution?.workflowId ?? '').replace(/^mm-onboarding:/, '');
      });
      const resumed = pageProgress.safeParse(context.info.heartbeatDetails);
      const done: Record<string, Result> = resumed.success ? resumed.data.done : {};
      const gapMs = 1000 / perSecond;
      // Ceiling: one update per listed WABA (at most pageSize), paced at perSecond.
      for (const wabaId of wabaIds) {
        if (done[wabaId] !== undefined) continue;
        const began = Date.now();
        done[wabaId] = await recheckOne(wabaId, `${updateIdPrefix}:${wabaId}`);
        context.heartbeat({ done });
        const rest = gapMs - (Date.now() - began);
        if (rest > 0) await sleep(rest);
      }
      const results = wabaIds.map((id) => done[id]);
      const count = (r: Result) => results.filter((x) => x === r).length;
      const next = response.nextPageToken?.length ? Buffer.from(response.nextPageToken).toString('base64') : undefined;
      return {
        listed: wabaIds.length,
        asked: count('asked'),
        refused: count('refused'),
        skipped: count('skipped'),
        failed: count('failed'),
        ...(next ? { nextPageToken: next } : {}),
      };
    },
  };
}
