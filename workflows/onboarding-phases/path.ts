/**
 * Phase `path`: the way the business is brought to the terms (shared/seed: "Three Onboarding Paths").
 * Intent API: one request per business asks Meta to email its admins. Embedded Signup: the partner
 * hands over the customer's code (exchanged by the signup desk, signup.ts). Manual: the business
 * accepts in WhatsApp Manager or the App Dashboard, so there is nothing to do but wait.
 */
import { NeedsAttention, onboardingActivities } from '../graph-calls';
import type { Next, OnboardingRun } from './run';
import { attentionReasons } from '../attention-reasons';

/**
 * → `terms` (AWAITING_TERMS, unless the terms came while on the path). A run `resumed` here (its
 * predecessor continued as new while waiting on the path) goes back to the path's wait: the request
 * is not sent again, the status not recorded again.
 */
export async function followPath(run: OnboardingRun, resumed = false): Promise<Next> {
  switch (run.state.path) {
    case 'intent':
      await requestIntent(run, resumed);
      break;
    case 'embedded_signup':
      await awaitSignup(run, resumed);
      break;
    case 'manual':
      break;
  }
  if (!run.inbox.terms) run.record.moveTo('AWAITING_TERMS');
  return 'terms';
}

/** One Intent API request per business, shared by all its WABAs through the business's workflow. */
async function requestIntent(run: OnboardingRun, resumed: boolean): Promise<void> {
  const { state, inbox } = run;
  const join = async () => {
    const renew = run.process.renewIntent;
    await onboardingActivities.joinBusinessIntent({ businessId: state.businessId, wabaId: state.wabaId, solutionId: run.options.solutionId, ...(renew ? { renew } : {}) });
    delete run.process.renewIntent;
  };
  if (!resumed) {
    run.record.moveTo('REQUESTING_INTENT', 'asking Meta to email the business admins the MM API terms');
    // The discovery that started this WABA joined it already (its answer may even be here).
    const joinedByDiscovery = inbox.discovery?.joinedIntent === true;
    if (joinedByDiscovery) delete inbox.discovery!.joinedIntent;
    else {
      inbox.intent = undefined;
      await join();
    }
  }
  // Ceiling: one read and at most one join per recheck (and the first join), until the deadline.
  do {
    await run.wait(() => inbox.intent !== undefined || inbox.terms !== undefined || run.rechecksPending(), { deadline: true, movesIn: 'path' });
    if (run.rechecksPending()) {
      await run.readStatusForTerms();
      // No answer from the business yet: the discovery's join may never have landed (its page failed
      // for good), or the business could not tell this WABA. A recheck joins again and hears it.
      if (inbox.intent === undefined && !inbox.terms) await join();
    }
  } while (inbox.intent === undefined && !inbox.terms);
  if (inbox.terms) return;
  if (inbox.intent!.error) throw new NeedsAttention(attentionReasons.intentFailed(inbox.intent!.error));
  state.intentRequestId = inbox.intent!.requestId;
}

/** Waits for the partner's Embedded Signup code, unless it came already (with the start, say). */
async function awaitSignup(run: OnboardingRun, resumed: boolean): Promise<void> {
  const { process, inbox } = run;
  // A code handed over with the start (update-with-start) may still be in the exchange: it never waits.
  if (!process.signupDone && inbox.signup) await run.wait(() => !inbox.signup, { deadline: true });
  if (process.signupDone) return;
  if (!resumed) run.record.moveTo('AWAITING_SIGNUP', 'waiting for the Embedded Signup code from the partner');
  // Ceiling: one read per recheck, until the deadline.
  do {
    await run.wait(() => process.signupDone === true || inbox.terms !== undefined || run.rechecksPending(), { deadline: true, movesIn: 'path' });
    if (run.rechecksPending()) await run.readStatusForTerms();
  } while (!process.signupDone && !inbox.terms);
}
