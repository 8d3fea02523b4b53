/**
 * The Temporal side of a partner endpoint's circuit (workflows/partner-callback-circuit.ts): an
 * onboarding whose callbacks find the endpoint down joins it (starting it, if none runs, with its
 * event as the probe), and the circuit, once the endpoint answers, tells every waiter.
 */
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { partnerEndpointUpSignal } from '../workflows/messages';
import { callbackCircuitWorkflowId, type CallbackCircuitInput, type PartnerCallbackEvent } from '../workflows/types';
import { PartnerCallbackWaitingKey } from '../temporal/search-attributes';
import { mapInBatches } from './batches';

/** Signals at once while telling waiters. */
const WAKE_CONCURRENCY = 20;
/** A pass tells at most this many (a pass more finds the rest): bounded by the waiters there are. */
const MAX_WAITERS_PER_PASS = 1_000_000;

/** The endpoint as a circuit knows it: its host and path (no query, no credentials), hashed to a Keyword's size. */
export function endpointKey(url: string): string {
  const u = new URL(url);
  return createHash('sha256').update(`${u.host}${u.pathname}`).digest('hex').slice(0, 32);
}

export function createCallbackCircuitActivities(client: Client, config: Pick<Config, 'partnerCallback' | 'temporal'>) {
  return {
    /** Starts the endpoint's circuit unless one runs (then joins it), and says which: the waiter marks itself with the key. */
    async joinCallbackCircuit(event: PartnerCallbackEvent): Promise<string> {
      if (!config.partnerCallback) throw new Error('no PARTNER_CALLBACK_URL is configured');
      const key = endpointKey(config.partnerCallback.url);
      await client.workflow.start('partnerCallbackCircuit', {
        workflowId: callbackCircuitWorkflowId(key),
        taskQueue: config.temporal.taskQueue,
        args: [{ endpointKey: key, probe: event } satisfies CallbackCircuitInput],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      });
      return key;
    },

    /** Tells every onboarding waiting on the endpoint that it answers again; returns how many were told. */
    async wakeCallbackWaiters({ endpointKey: key }: { endpointKey: string }): Promise<number> {
      const ids: string[] = [];
      const query = `${PartnerCallbackWaitingKey.name} = "${key}" AND ExecutionStatus = "Running"`;
      for await (const run of client.workflow.list({ query })) {
        ids.push(run.workflowId);
        if (ids.length % 1_000 === 0) Context.current().heartbeat(ids.length);
        if (ids.length >= MAX_WAITERS_PER_PASS) break;
      }
      let told = 0;
      await mapInBatches(
        ids,
        WAKE_CONCURRENCY,
        async (workflowId) => {
          // A waiter that ended meanwhile has nothing left to deliver.
          await client.workflow.getHandle(workflowId).signal(partnerEndpointUpSignal).then(
            () => told++,
            () => undefined,
          );
        },
        (done) => Context.current().heartbeat(done),
      );
      return told;
    },
  };
}
