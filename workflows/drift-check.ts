/**
 * Drift checks: after READY, Meta may stop treating the WABA as onboarded (its `/marketing_messages`
 * answers 131055) while the onboarding still says READY. The send gate and the webhook receiver ask
 * for a re-read of Meta's status; the onboarding's watching phase (onboarding-phases/ready.ts) makes it:
 * still ONBOARDED → READY stays, the check recorded in `lastDriftCheck`; anything else → NEEDS_ATTENTION
 * naming Meta's status, until a recheck or a terms webhook finds it ONBOARDED again.
 *
 * Ceiling: the update's validator refuses (no history event, though Temporal Cloud bills it) unless the WABA is READY, no check is
 * pending, none was asked for within DRIFT_CHECK_INTERVAL_MS, and the daily status-read budget has room.
 * The API processes each keep the same interval in memory, so most asks never reach Temporal at all.
 */
import { setHandler } from '@temporalio/workflow';
import { requestDriftCheckUpdate, type DriftCheckRequest } from './messages';
import type { EligibilityVerdict } from './eligibility';
import { NeedsAttention } from './graph-calls';
import { attentionReasons } from './attention-reasons';
import type { OnboardingRun } from './onboarding-phases/run';

/** At most one drift check per WABA per hour, however many refusals report it. */
export const DRIFT_CHECK_INTERVAL_MS = 3600 * 1000;

/** Sets the drift-check update handler. */
export function listenForDriftChecks(run: OnboardingRun): void {
  const { state, process, inbox } = run;
  setHandler(
    requestDriftCheckUpdate,
    ({ cause, graphCode }) => {
      const now = Date.now();
      process.lastDriftCheckAskedAt = now;
      const askedAt = new Date(now).toISOString();
      inbox.driftCheck = { askedAt, cause, graphCode };
      return { askedAt };
    },
    {
      validator: (_request: DriftCheckRequest) => {
        const now = Date.now();
        if (state.status !== 'READY') throw new Error(`the onboarding is ${state.status}; drift checks are for READY onboardings`);
        if (inbox.driftCheck) throw new Error('a drift check is already pending');
        const last = process.lastDriftCheckAskedAt;
        if (last !== undefined && now - last < DRIFT_CHECK_INTERVAL_MS) {
          throw new Error(`a drift check was asked for at ${new Date(last).toISOString()}; the next one may be asked from ${new Date(last + DRIFT_CHECK_INTERVAL_MS).toISOString()}`);
        }
        if (!run.statusReads.hasRoom(now)) throw new Error("this WABA's daily budget of Graph status reads is spent");
      },
    },
  );
}

/**
 * Settles the pending drift check with a fresh read of Meta's status: recorded either way; a status
 * other than ONBOARDED parks the onboarding (NeedsAttention), naming it.
 */
export function settleDriftCheck(run: OnboardingRun, asked: NonNullable<OnboardingRun['inbox']['driftCheck']>, verdict: EligibilityVerdict): void {
  const metaStatus = run.state.eligibility ?? 'unknown';
  run.state.lastDriftCheck = { at: new Date().toISOString(), metaStatus, cause: asked.cause };
  if (verdict.kind === 'onboarded') {
    run.record.describe();
    return;
  }
  const by = asked.cause === 'send' ? 'a send' : 'a message status';
  throw new NeedsAttention(attentionReasons.drift(metaStatus, by, asked.graphCode));
}
