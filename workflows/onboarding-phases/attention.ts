/**
 * Phase `attention` (NEEDS_ATTENTION): something a person must fix (an expired token, a missing
 * permission, a restriction, no Cloud API number...). The onboarding waits for a recheck (an
 * operator's, a ban's REINSTATE, or a good Embedded Signup), then starts again from a fresh reading
 * of Meta's status.
 */
import type { NeedsAttention } from '../graph-calls';
import { StatusReadFailed, type Next, type OnboardingRun } from './run';

/** Any phase → `attention`, with the reason. */
export function park(run: OnboardingRun, problem: NeedsAttention): Next {
  run.record.moveTo('NEEDS_ATTENTION', problem.message);
  // The failed read answers the rechecks that asked for it, with the state it left: parked with the
  // new reason. Unanswered, they would start the next pass at once, and so on for ever.
  if (problem instanceof StatusReadFailed) {
    run.inbox.rechecks.answered = Math.max(run.inbox.rechecks.answered, problem.answersRechecksUpTo);
  }
  return 'attention';
}

/** → `eligibility`, on the first recheck asked for after the last read. */
export async function awaitRecheck(run: OnboardingRun): Promise<Next> {
  // Only a recheck asked for after the last read ends this wait (the read answered the ones before
  // it, failing or not); its answer is the fresh status read the next pass starts with.
  await run.wait(() => run.rechecksPending(), { parked: true, movesIn: 'attention' });
  run.inbox.attention = undefined;
  return 'eligibility';
}
