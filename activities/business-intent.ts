import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { joinIntentSignal } from '../workflows/messages';
import { businessIntentWorkflowId } from '../workflows/types';

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
  };
}
