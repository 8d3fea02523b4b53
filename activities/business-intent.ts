import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { joinIntentSignal } from '../workflows/messages';
import { businessIntentWorkflowId } from '../workflows/types';

/** Activities that talk to Temporal itself, for what workflow code cannot do (signal-with-start). */
export function createBusinessIntentActivities(client: Client) {
  return {
    /** Starts the business's intent workflow if needed and puts the WABA on its list. */
    async joinBusinessIntent({ businessId, wabaId, solutionId }: { businessId: string; wabaId: string; solutionId?: string }) {
      await client.workflow.signalWithStart('businessIntent', {
        workflowId: businessIntentWorkflowId(businessId),
        taskQueue: Context.current().info.taskQueue,
        args: [{ businessId }],
        signal: joinIntentSignal,
        signalArgs: [{ wabaId, solutionId }],
      });
    },
  };
}
