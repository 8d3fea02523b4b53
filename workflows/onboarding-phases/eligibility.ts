/**
 * Phase `eligibility` (CHECKING_ELIGIBILITY): reads `marketing_messages_onboarding_status` until Meta
 * says something final, and checks the WABA has a number on Cloud API (shared/seed: Prerequisites).
 * Every pass starts here: the first, each after a recheck out of NEEDS_ATTENTION, and one after a
 * READY WABA's read finds it no longer onboarded.
 */
import { NeedsAttention, graph, onboardingActivities } from '../graph-calls';
import { nextPollDelaySeconds, readOnboardingStatus, type EligibilityVerdict } from '../eligibility';
import type { Next, OnboardingRun } from './run';
import { attentionReasons } from '../attention-reasons';

/**
 * → `path`; → `grace` when the terms are signed; → ended in INELIGIBLE. A run `resumed` here (its
 * predecessor continued as new while waiting out a PENDING_* status) goes back to that wait.
 */
export async function checkEligibility(run: OnboardingRun, resumed = false): Promise<Next> {
  if (!resumed) beginPass(run);
  return decide(run, await readVerdict(run, resumed));
}

/** A new pass: CHECKING_ELIGIBILITY, with a terms deadline of its own (counted from now). */
export function beginPass(run: OnboardingRun, reason?: string): void {
  run.record.moveTo('CHECKING_ELIGIBILITY', reason);
  run.startTermsClock();
}

/**
 * What a pass does with Meta's final word. MM API reuses the Cloud API registration, so whatever Meta
 * says (ONBOARDED included) a WABA without a Cloud API number needs attention: no READY without it.
 * Meta's word wins over terms signed before: only ONBOARDED, or a signing heard since the WABA was last
 * READY, leads to `grace`; otherwise the WABA goes down its path again, for terms of its own.
 */
export async function decide(run: OnboardingRun, verdict: Exclude<EligibilityVerdict, { kind: 'wait' }>): Promise<Next> {
  if (verdict.kind === 'intent_only' && run.state.path !== 'intent') {
    verdict = { kind: 'ineligible', reason: `${verdict.reason}; start it again with path "intent"` };
  }
  if (verdict.kind === 'ineligible') {
    run.record.moveTo('INELIGIBLE', verdict.reason);
    return 'ended';
  }
  await requireCloudApiNumber(run);
  if (verdict.kind === 'onboarded' || run.inbox.terms) return 'grace';
  forgetSpentSigning(run);
  return 'path';
}

/** The terms the WABA went READY on no longer stand (Meta says otherwise): the state stops showing them. */
function forgetSpentSigning(run: OnboardingRun): void {
  const { state } = run;
  if (state.termsSignedAt === undefined) return;
  delete state.termsSignedAt;
  delete state.termsSource;
  delete state.readyAt;
  delete state.intentRequestId; // the request that brought them is answered: the path asks again
  if (state.path === 'intent') run.process.renewIntent = true;
}

/** Reads Meta's status until it says something final; waits out PENDING_* with backoff. */
async function readVerdict(run: OnboardingRun, resumed: boolean): Promise<Exclude<EligibilityVerdict, { kind: 'wait' }>> {
  let delay: number | undefined;
  let waitFirst = resumed;
  // Ceiling: backed-off reads (doubling up to a day) within the daily read budget, until the deadline.
  for (;;) {
    if (!waitFirst) {
      const verdict = await readOrTakeListed(run);
      if (verdict.kind !== 'wait') return verdict;
      run.record.explain(verdict.reason);
    }
    waitFirst = false;
    let recheck: boolean;
    do {
      delay = nextPollDelaySeconds(delay, run.options.statusPollIntervalSeconds);
      recheck = await run.wait(() => run.inbox.terms !== undefined || run.rechecksPending(), { seconds: delay, deadline: true, movesIn: 'eligibility' });
      if (run.inbox.terms) return { kind: 'onboarded' };
      // Backed-off polls stay within the WABA's daily budget too; an operator's recheck always reads.
    } while (!recheck && !run.statusReads.hasRoom(Date.now()));
  }
}

/** The status a discovery listed the WABA with is used once, in place of a read. */
function readOrTakeListed(run: OnboardingRun): Promise<EligibilityVerdict> {
  const listed = run.inbox.discovery?.status;
  if (listed === undefined) return run.readStatus();
  delete run.inbox.discovery!.status;
  run.state.eligibility = listed;
  return Promise.resolve(readOnboardingStatus(listed, 'marketing_messages_onboarding_status'));
}

/** MM API reuses the Cloud API registration: without a number on Cloud API, a person must act. */
async function requireCloudApiNumber(run: OnboardingRun): Promise<void> {
  const listed = run.inbox.discovery?.numbers;
  if (listed) delete run.inbox.discovery!.numbers;
  const { wabaId } = run.state;
  const numbers = listed ?? (await graph(() => onboardingActivities.checkCloudApiNumbers({ wabaId, sealedToken: run.process.sealedToken })));
  if (numbers.registered > 0) return;
  const seen = numbers.others.map((n) => `${n.displayPhoneNumber ?? n.id} (${n.platformType ?? 'unknown platform'})`);
  throw new NeedsAttention(attentionReasons.noCloudApiNumber(seen));
}
