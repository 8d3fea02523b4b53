/**
 * Hands webhook changes to Temporal (after the receiver checked the signature and parsed the
 * envelope; it answers 503 when any hand-off failed, so Meta retries). Each change becomes one signal;
 * a terms signing for a WABA nobody is onboarding yet starts a `manual` onboarding with it
 * (signal-with-start), since the business accepted the terms on its own.
 *
 * Changes for the same WABA go in delivery order; different WABAs go in parallel, a bounded number at
 * a time. Nothing is stored here: duplicates are harmless because the workflow dedupes.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Config } from '../../config';
import { accountEventSignal, templateCategorySignal, templateStatusSignal, termsSignedSignal } from '../../workflows/messages';
import { onboardingWorkflowId, type OnboardingInput } from '../../workflows/types';
import { onboardingStartOptions } from '../../workflows/start-options';
import { ONBOARDING_WORKFLOW_TYPE } from '../partner/onboarding-list';
import { callWithin } from '../http/temporal-deadline';
import type { WebhookAction } from './payload';

/** Temporal calls in flight per delivery: enough for speed, few enough not to flood the frontend. */
const CONCURRENCY = 32;

export type Deliverable = Extract<WebhookAction, { kind: 'terms_signed' | 'account_event' | 'template_status' | 'template_category' }>;
export type HandoffResult = { action: Deliverable; outcome: 'signalled' | 'no_onboarding' } | { action: Deliverable; outcome: 'failed'; error: unknown };

export interface HandoffDeps {
  client: Client;
  config: Config;
  /** gRPC deadline of each call. */
  callTimeoutMs: number;
  timeTemporal<T>(operation: string, call: () => Promise<T>): Promise<T>;
}

export async function handOff(deps: HandoffDeps, actions: Deliverable[]): Promise<HandoffResult[]> {
  const byWaba = new Map<string, Deliverable[]>();
  for (const action of actions) {
    const queue = byWaba.get(action.wabaId) ?? [];
    queue.push(action);
    byWaba.set(action.wabaId, queue);
  }
  const results: HandoffResult[] = [];
  // After the first failure the delivery will be answered 503 and redelivered whole: stop calling
  // a Temporal that is down instead of waiting out one deadline per remaining change.
  let failure: unknown;
  await forEachLimited([...byWaba.values()], CONCURRENCY, async (queue) => {
    for (const action of queue) {
      const result: HandoffResult = failure === undefined ? await handOne(deps, action) : { action, outcome: 'failed', error: failure };
      if (result.outcome === 'failed') failure ??= result.error;
      results.push(result);
    }
  });
  return results;
}

async function handOne(deps: HandoffDeps, action: Deliverable): Promise<HandoffResult> {
  const { client, config } = deps;
  const workflowId = onboardingWorkflowId(action.wabaId);
  const within = <T>(operation: string, call: () => Promise<T>) =>
    deps.timeTemporal(operation, () => callWithin(client, deps.callTimeoutMs, call));
  try {
    if (action.kind === 'terms_signed' && action.businessId) {
      // Signals the running onboarding if there is one. After a closed run (cancelled, expired,
      // ineligible) a fresh signing is news: a new run starts, and its first status read says ONBOARDED.
      const input: OnboardingInput = { wabaId: action.wabaId, businessId: action.businessId, path: 'manual', origin: 'webhook' };
      await within('signalWithStart', () =>
        client.workflow.signalWithStart(ONBOARDING_WORKFLOW_TYPE, {
          ...onboardingStartOptions(input, config),
          signal: termsSignedSignal,
          signalArgs: [action.signal],
        }),
      );
    } else if (action.kind === 'terms_signed') {
      // No owner_business_id: an onboarding cannot be started without its business, only told.
      await within('signal', () => client.workflow.getHandle(workflowId).signal(termsSignedSignal, action.signal));
    } else if (action.kind === 'template_category') {
      await within('signal', () => client.workflow.getHandle(workflowId).signal(templateCategorySignal, action.signal));
    } else if (action.kind === 'template_status') {
      await within('signal', () => client.workflow.getHandle(workflowId).signal(templateStatusSignal, action.signal));
    } else {
      await within('signal', () => client.workflow.getHandle(workflowId).signal(accountEventSignal, action.signal));
    }
    return { action, outcome: 'signalled' };
  } catch (err) {
    // No running onboarding for this WABA: nothing to update, and a retry would change nothing.
    if (err instanceof WorkflowNotFoundError) return { action, outcome: 'no_onboarding' };
    return { action, outcome: 'failed', error: err };
  }
}

async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(lanes);
}
