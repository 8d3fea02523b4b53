/**
 * Phase `terms` (AWAITING_TERMS): waits for the business to sign the MM API Terms of Service.
 * It ends on the first of: the MM_LITE_TERMS_SIGNED webhook, its legacy AD_ACCOUNT_LINKED twin, a
 * backed-off poll (or an operator's recheck) that reads ONBOARDED, or the deadline (EXPIRED).
 */
import { nextPollDelaySeconds } from '../eligibility';
import type { Next, OnboardingRun } from './run';

/** → `grace`. */
export async function awaitTermsSigned(run: OnboardingRun): Promise<Next> {
  const { inbox } = run;
  let delay: number | undefined;
  // Ceiling: backed-off polls (doubling up to a day) within the daily read budget, until the deadline.
  while (!inbox.terms) {
    delay = nextPollDelaySeconds(delay, run.options.statusPollIntervalSeconds);
    const recheck = await run.wait(() => inbox.terms !== undefined || run.rechecksPending(), { seconds: delay, deadline: true, movesIn: 'terms' });
    if (inbox.terms) break;
    // Backed-off polls stay within the WABA's daily budget; an operator's recheck always reads.
    if (!recheck && !run.statusReads.hasRoom(Date.now())) continue;
    const verdict = await run.readStatusForTerms();
    if (verdict.kind !== 'onboarded') run.record.explain(verdict.kind === 'eligible' ? undefined : verdict.reason);
  }
  return 'grace';
}
