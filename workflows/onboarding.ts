/**
 * One WABA's onboarding to the Marketing Messages API, from "unknown" to "ready to send through
 * /marketing_messages". Workflow id: `mm-onboarding:<wabaId>`.
 *
 *   eligibility → path (Intent API, Embedded Signup, or manual acceptance) → terms
 *   → template grace → READY, watching the account
 *
 * Anything a person must fix parks the onboarding in NEEDS_ATTENTION until a recheck (an operator's,
 * or Meta reinstating a banned account); it then starts again from a fresh reading of Meta's status.
 * A partner removal, offboarding or deletion ends it in OFFBOARDED, the deadline in EXPIRED, the
 * partner's cancel in CANCELLED. Nothing expected fails the run.
 *
 * What the outside world says lands in the inbox (onboarding-inbox.ts); each phase
 * (onboarding-phases/) reads it when it wakes. A run continues as new only while it waits for the
 * outside world, carrying its state and inbox, on the workers' current build: when its history grows
 * long, or a release wakes it to a newer build (workflows/build-moves.ts). The next run resumes the
 * same phase's wait.
 */
import { allHandlersFinished, CancellationScope, condition, isCancellation } from '@temporalio/workflow';
import type { OnboardingState } from './types';
import type { OnboardingRunInput } from './onboarding-inbox';
import { NeedsAttention } from './graph-calls';
import { listen } from './onboarding-handlers';
import { Expired, Offboarded, OnboardingRun, TimeToMove, type Next, type Phase } from './onboarding-phases/run';
import { checkEligibility } from './onboarding-phases/eligibility';
import { followPath } from './onboarding-phases/path';
import { openSignupDesk } from './onboarding-phases/signup';
import { awaitTermsSigned } from './onboarding-phases/terms';
import { templateGrace, watchAccount } from './onboarding-phases/ready';
import { awaitRecheck, park } from './onboarding-phases/attention';
import { listenForWakes } from './build-moves';

export async function onboarding(input: OnboardingRunInput): Promise<OnboardingState> {
  const run = new OnboardingRun(input);
  listen(run);
  run.readiness.publish();
  listenForWakes();
  run.outbox.start();
  openSignupDesk(run);
  if (input.carriedOver) run.record.resume(); // the Web UI's details and the list's reason, in the new run too

  try {
    await run.scope.run(() => onboard(run, input.carriedOver?.phase ?? 'eligibility'));
  } catch (err) {
    if (err instanceof Expired) {
      run.record.moveTo('EXPIRED', `the terms were not signed within ${run.options.termsDeadlineSeconds} s`);
    } else if (err instanceof Offboarded) {
      run.record.moveTo('OFFBOARDED', err.message);
    } else if (isCancellation(err)) {
      await CancellationScope.nonCancellable(async () => {
        run.record.moveTo('CANCELLED', run.inbox.cancelReason ?? 'the workflow was cancelled');
      });
    } else {
      throw err;
    }
  }
  // Ended: the partner still hears about it before the run closes.
  await CancellationScope.nonCancellable(async () => {
    await run.outbox.drained();
    await condition(allHandlersFinished);
  });
  return run.state;
}

/**
 * The process, phase by phase, from where this run starts. Ceiling: the phases only move forward,
 * except NEEDS_ATTENTION, which goes back to eligibility only on a recheck; every recheck is answered
 * by the first status read of its pass, failing or not: one pass per recheck.
 */
async function onboard(run: OnboardingRun, from: Phase): Promise<void> {
  let phase: Next = from;
  // A run carried over in a phase resumes its wait: the previous run already entered it.
  let resumed = run.input.carriedOver !== undefined;
  while (phase !== 'ended') {
    try {
      phase = await step(run, phase, resumed);
    } catch (err) {
      if (err instanceof NeedsAttention) phase = park(run, err);
      else if (err instanceof TimeToMove) return run.continueAsNew(err.phase);
      else throw err;
    }
    resumed = false;
  }
}

async function step(run: OnboardingRun, phase: Phase, resumed: boolean): Promise<Next> {
  switch (phase) {
    case 'eligibility': // CHECKING_ELIGIBILITY → path, or grace when already signed, or INELIGIBLE
      return checkEligibility(run, resumed);
    case 'path': // REQUESTING_INTENT | AWAITING_SIGNUP | (manual) → terms
      return followPath(run, resumed);
    case 'terms': // AWAITING_TERMS → grace
      return awaitTermsSigned(run);
    case 'grace': // SYNCING_TEMPLATES → watching
      return templateGrace(run, resumed);
    case 'watching': // READY, until attention, an ending, or a new run
      return watchAccount(run);
    case 'attention': // NEEDS_ATTENTION → eligibility, on a recheck
      return awaitRecheck(run);
  }
}
