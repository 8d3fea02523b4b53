import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { intentRequestedSignal, joinIntentSignal, type IntentRequestedSignal } from '../workflows/messages';
import { businessIntentWorkflowId, onboardingWorkflowId } from '../workflows/types';
import { z } from 'zod';
import { mapInBatches } from './batches';
import { isTemporalUnreachable } from './temporal-errors';

/** Signals in flight at once when a business's WABAs hear the answer. */
const TELL_CONCURRENCY = 32;

/** How far a tell got (its heartbeat): the next WABA of the list, and those to try again or refused. */
const tellProgress = z.object({ next: z.number().int().min(0), retry: z.array(z.string()), refused: z.array(z.string()) });
type TellProgress = z.infer<typeof tellProgress>;

/** The WABAs Temporal refused the answer for good (every other one was told, or has ended). */
export interface IntentTellOutcome {
  refused: string[];
}

/**
 * Starts the business's intent workflow if needed and puts the WABAs on its list (signal-with-start,
 * which workflow code cannot do). A WABA already on the list, or already told, is told again: harmless.
 */
export async function joinIntent(
  client: Client,
  taskQueue: string,
  { businessId, wabaIds, solutionId, renew }: { businessId: string; wabaIds: string[]; solutionId?: string; renew?: boolean },
): Promise<void> {
  await client.workflow.signalWithStart('businessIntent', {
    workflowId: businessIntentWorkflowId(businessId),
    taskQueue,
    args: [{ businessId }],
    signal: joinIntentSignal,
    // One WABA as a single id (what every earlier join sent); several (a discovery's page) as a list.
    signalArgs: [wabaIds.length === 1 ? { wabaId: wabaIds[0], solutionId, ...(renew ? { renew } : {}) } : { wabaIds, solutionId }],
  });
}

/** Activities that talk to Temporal itself, for what workflow code cannot do (signal-with-start). */
export function createBusinessIntentActivities(client: Client) {
  return {
    /**
     * Starts the business's intent workflow if needed and puts the WABA on its list. Temporal
     * unreachable is retried; anything else it refuses (e.g. the business's run past its signal
     * limit) will not clear by retrying, so it fails at once.
     */
    async joinBusinessIntent({ businessId, wabaId, solutionId, renew }: { businessId: string; wabaId: string; solutionId?: string; renew?: boolean }) {
      try {
        await joinIntent(client, Context.current().info.taskQueue, { businessId, wabaIds: [wabaId], solutionId, renew });
      } catch (err) {
        if (isTemporalUnreachable(err)) throw err;
        throw ApplicationFailure.nonRetryable(`Temporal refused the join: ${describeRefusal(err)}`, 'TemporalRefused');
      }
    },

    /**
     * Tells each waiting WABA's onboarding how the business's request stands. One activity for the
     * whole list: a signal per WABA, without a pair of events per WABA in the business's history.
     * - An onboarding that has ended meanwhile has nobody left to tell.
     * - One Temporal refuses for good (e.g. past its signal limit) is answered back as `refused`.
     * - Any other failure (Temporal unreachable) retries the activity, which then tells only the
     *   WABAs the last attempt did not reach (its heartbeat says which), so a fault on one WABA
     *   never writes the answer into the others' histories again.
     */
    async tellIntentRequested({ wabaIds, answer }: { wabaIds: string[]; answer: IntentRequestedSignal }): Promise<IntentTellOutcome> {
      const context = Context.current();
      const resumed = tellProgress.safeParse(context.info.heartbeatDetails);
      const before: TellProgress = resumed.success ? resumed.data : { next: 0, retry: [], refused: [] };
      const queue = [...before.retry, ...wabaIds.slice(before.next)];
      const retry: string[] = [];
      const refused = [...before.refused];
      let lastError: unknown;
      const tell = async (wabaId: string) => {
        try {
          await client.workflow.getHandle(onboardingWorkflowId(wabaId)).signal(intentRequestedSignal, answer);
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return;
          (isTemporalUnreachable(err) ? retry : refused).push(wabaId);
          lastError = err;
        }
      };
      // The queue runs the last attempt's leftovers first, then the list from where it stopped.
      const progressAfter = (done: number): TellProgress => {
        const leftoversDone = Math.min(done, before.retry.length);
        return { next: before.next + done - leftoversDone, retry: [...before.retry.slice(leftoversDone), ...retry], refused };
      };
      await mapInBatches(queue, TELL_CONCURRENCY, tell, (done) => context.heartbeat(progressAfter(done)));
      if (retry.length > 0) {
        context.heartbeat(progressAfter(queue.length));
        throw new Error(`${retry.length} of ${wabaIds.length} WABAs not told yet: ${String(lastError)}`);
      }
      return { refused };
    },
  };
}

/** The refusal's message and, for a Temporal ServiceError, the gRPC message it wraps. */
function describeRefusal(err: unknown): string {
  const e = err as { message?: unknown; cause?: { message?: unknown } } | undefined;
  return [e?.message, e?.cause?.message].filter((m): m is string => typeof m === 'string' && m.length > 0).join(': ') || String(err);
}
