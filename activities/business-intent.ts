import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { intentRequestedSignal, joinIntentSignal, type IntentRequestedSignal } from '../workflows/messages';
import { businessIntentWorkflowId, onboardingWorkflowId } from '../workflows/types';
import { mapInBatches } from './batches';

/** Signals in flight at once when a business's WABAs hear the answer. */
const TELL_CONCURRENCY = 32;

/**
 * Starts the business's intent workflow if needed and puts the WABAs on its list (signal-with-start,
 * which workflow code cannot do). A WABA already on the list, or already told, is told again: harmless.
 */
export async function joinIntent(
  client: Client,
  taskQueue: string,
  { businessId, wabaIds, solutionId }: { businessId: string; wabaIds: string[]; solutionId?: string },
): Promise<void> {
  await client.workflow.signalWithStart('businessIntent', {
    workflowId: businessIntentWorkflowId(businessId),
    taskQueue,
    args: [{ businessId }],
    signal: joinIntentSignal,
    // One WABA as a single id (what every earlier join sent); several (a discovery's page) as a list.
    signalArgs: [wabaIds.length === 1 ? { wabaId: wabaIds[0], solutionId } : { wabaIds, solutionId }],
  });
}

/** Activities that talk to Temporal itself, for what workflow code cannot do (signal-with-start). */
export function createBusinessIntentActivities(client: Client) {
  return {
    /** Starts the business's intent workflow if needed and puts the WABA on its list. */
    async joinBusinessIntent({ businessId, wabaId, solutionId }: { businessId: string; wabaId: string; solutionId?: string }) {
      await joinIntent(client, Context.current().info.taskQueue, { businessId, wabaIds: [wabaId], solutionId });
    },

    /**
     * Tells each waiting WABA's onboarding how the business's request stands. One activity for the
     * whole list: a signal per WABA, without a pair of events per WABA in the business's history.
     * An onboarding that has ended meanwhile has nobody left to tell; any other failure retries the
     * activity, and a WABA told twice is harmless.
     */
    async tellIntentRequested({ wabaIds, answer }: { wabaIds: string[]; answer: IntentRequestedSignal }) {
      const context = Context.current();
      const tell = (wabaId: string) =>
        client.workflow
          .getHandle(onboardingWorkflowId(wabaId))
          .signal(intentRequestedSignal, answer)
          .catch((err: unknown) => {
            if (!(err instanceof WorkflowNotFoundError)) throw err;
          });
      await mapInBatches(wabaIds, TELL_CONCURRENCY, tell, (done) => context.heartbeat(done));
    },
  };
}
