/**
 * The Intent API request of one business (id `mm-intent:<businessId>`). `onboard_partners_to_mm_lite`
 * is per business while the terms arrive per WABA, so every onboarding WABA of the business joins this
 * one workflow: it sends the request once, tells each WABA that it stands, and sends it again only
 * when an operator asks (or, after a failure a person fixed, when a WABA's recheck joins again).
 *
 * Before sending, it reads the business's own `marketing_messages_onboarding_status` on Meta: a
 * request that already stands there (REQUEST_SENT, or the terms already signed) is not sent again,
 * so a business gets one request even if this service's own state was lost (new namespace, wiped
 * database). Only an operator's resend skips that check.
 */
import { ActivityFailure, allHandlersFinished, condition, setHandler } from '@temporalio/workflow';
import { getIntentStateQuery, joinIntentSignal, resendIntentSignal } from './messages';
import { graph, NeedsAttention, onboardingActivities, tellIntentRequested } from './graph-calls';
import { continueOnCurrentBuild, DEFAULT_WAKE_EVERY_SECONDS, listenForWakes, newBuildIsCurrent, timeForNewRun } from './build-moves';
import type { BusinessIntentInput, BusinessIntentState } from './types';

export async function businessIntent(input: BusinessIntentInput): Promise<void> {
  const state: BusinessIntentState = input.carriedOver ?? { businessId: input.businessId, requested: false, requestCount: 0, waiting: [] };
  let sendWanted = !state.requested;
  let resendAsked = false;
  let renewAsked = false;

  setHandler(joinIntentSignal, ({ wabaId, wabaIds, solutionId, renew }) => {
    for (const id of wabaIds ?? (wabaId ? [wabaId] : [])) if (!state.waiting.includes(id)) state.waiting.push(id);
    state.solutionId ??= solutionId;
    // A join after a failed attempt comes from a WABA's recheck: someone fixed the cause.
    if (state.lastError) sendWanted = true;
    // A WABA whose terms Meta withdrew needs a request that is still pending on Meta.
    if (renew) sendWanted = renewAsked = true;
  });
  setHandler(resendIntentSignal, () => {
    sendWanted = true;
    resendAsked = true;
  });
  setHandler(getIntentStateQuery, () => state);
  listenForWakes();

  const quiet = () => !sendWanted && state.waiting.length === 0;
  const timeToMove = () => timeForNewRun({ events: 2_000 });
  const wakeEveryMs = (input.wakeEverySeconds ?? DEFAULT_WAKE_EVERY_SECONDS) * 1000;

  // Ceiling: one request per resend or per join after a failure (a WABA's recheck), each with the
  // Graph activity's bounded retry; continue-as-new keeps the history short. A quiet business wakes
  // for a new build (a release's wake signal, or at the latest the weekly backstop timer) only to
  // move to it: one timer a week otherwise.
  for (;;) {
    await condition(
      () => sendWanted || (state.waiting.length > 0 && (state.requested || state.lastError !== undefined)) || (quiet() && newBuildIsCurrent()),
      wakeEveryMs,
    );
    if (sendWanted) {
      sendWanted = false;
      const byOperator = resendAsked;
      const renewing = renewAsked;
      resendAsked = renewAsked = false;
      if (byOperator || (await readStatusOnMeta(state, renewing)) === 'not_requested') await sendRequest(state);
    }
    await tellWaitingWabas(state);
    if (timeToMove()) {
      await condition(allHandlersFinished);
      // On the workers' current build (Worker Versioning: runs are pinned until they continue as new).
      if (quiet()) await continueOnCurrentBuild<typeof businessIntent>({ ...input, carriedOver: state });
    }
  }
}

/** The business's status on Meta's side says a request stands (or the terms are signed): none is sent. */
const REQUEST_STANDS: readonly string[] = Object.freeze(['REQUEST_SENT', 'TERM_OF_SERVICE_SIGNED']);
/** For a WABA whose terms Meta withdrew, signed terms are not enough: only a request still pending stands. */
const REQUEST_PENDING: readonly string[] = Object.freeze(['REQUEST_SENT']);

/**
 * Reads whether Meta already has a request for the business (`renewing`: one still pending). A read
 * that fails counts as a failed attempt: the WABAs hear of it and a recheck tries again, without a
 * request sent blind.
 */
async function readStatusOnMeta(state: BusinessIntentState, renewing = false): Promise<'requested' | 'not_requested' | 'unreadable'> {
  try {
    const { status } = await graph(() => onboardingActivities.readBusinessOnboardingStatus({ businessId: state.businessId }));
    state.statusOnMeta = status;
    if (!(renewing ? REQUEST_PENDING : REQUEST_STANDS).includes(status)) return 'not_requested';
    state.requested = true;
    state.lastError = undefined;
    return 'requested';
  } catch (err) {
    if (!(err instanceof NeedsAttention)) throw err;
    state.lastError = err.message;
    return 'unreadable';
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

/** The waiting WABAs are told in one activity (a signal per WABA from there), not a signal command each. */
async function tellWaitingWabas(state: BusinessIntentState): Promise<void> {
  const waiting = state.waiting.splice(0);
  if (waiting.length === 0) return;
  const answer = { businessId: state.businessId, requestId: state.requestId, error: state.requested ? undefined : state.lastError };
  // WABAs not told (refused, or past the activity's ceiling) hear it when their recheck joins again.
  try {
    const { refused } = await tellIntentRequested({ wabaIds: waiting, answer });
    if (refused.length) state.tellError = `Temporal refused the answer to ${refused.length} WABA(s): ${refused.slice(0, 10).join(', ')}`;
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    state.tellError = `not every WABA was told: ${err.cause?.message ?? err.message}`;
  }
}
