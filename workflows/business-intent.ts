/**
 * The Intent API request of one business (id `mm-intent:<businessId>`). `onboard_partners_to_mm_lite`
 * is per business while the terms arrive per WABA, so every onboarding WABA of the business joins this
 * one workflow: it sends the request once, tells each WABA that it stands, and sends it again only
 * when an operator asks (or, after a failure a person fixed, when a WABA's recheck joins again).
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { getIntentStateQuery, intentRequestedSignal, joinIntentSignal, resendIntentSignal } from './messages';
import { graph, NeedsAttention, onboardingActivities } from './graph-calls';
import { onboardingWorkflowId, type BusinessIntentInput, type BusinessIntentState } from './types';

export async function businessIntent(input: BusinessIntentInput): Promise<void> {
  const state: BusinessIntentState = input.carriedOver ?? { businessId: input.businessId, requested: false, requestCount: 0, waiting: [] };
  let sendWanted = !state.requested;

  setHandler(joinIntentSignal, ({ wabaId, solutionId }) => {
    if (!state.waiting.includes(wabaId)) state.waiting.push(wabaId);
    state.solutionId ??= solutionId;
    // A join after a failed attempt comes from a WABA's recheck: someone fixed the cause.
    if (state.lastError) sendWanted = true;
  });
  setHandler(resendIntentSignal, () => {
    sendWanted = true;
  });
  setHandler(getIntentStateQuery, () => state);

  // Ceiling: one request per resend or per join after a failure (a WABA's recheck), each with the
  // Graph activity's bounded retry; continue-as-new keeps the history short.
  for (;;) {
    await condition(() => sendWanted || (state.waiting.length > 0 && (state.requested || state.lastError !== undefined)));
    if (sendWanted) {
      sendWanted = false;
      await sendRequest(state);
    }
    await tellWaitingWabas(state);
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > 2_000) {
      await condition(allHandlersFinished);
      if (!sendWanted && state.waiting.length === 0) await continueAsNew<typeof businessIntent>({ ...input, carriedOver: state });
    }
  }
}

async function sendRequest(state: BusinessIntentState): Promise<void> {
  try {
    const answer = await graph(() => onboardingActivities.requestIntent({ businessId: state.businessId, solutionId: state.solutionId }));
    state.requested = true;
    state.requestId = answer.requestId ?? state.requestId;
    state.lastError = undefined;
  } catch (err) {
    if (!(err instanceof NeedsAttention)) throw err;
    state.lastError = err.message;
  }
  state.requestCount++;
}

async function tellWaitingWabas(state: BusinessIntentState): Promise<void> {
  const waiting = state.waiting.splice(0);
  await Promise.all(
    waiting.map(async (wabaId) => {
      try {
        await getExternalWorkflowHandle(onboardingWorkflowId(wabaId)).signal(intentRequestedSignal, {
          businessId: state.businessId,
          requestId: state.requestId,
          error: state.requested ? undefined : state.lastError,
        });
      } catch {
        // That onboarding has ended meanwhile: nobody left to tell.
      }
    }),
  );
}
