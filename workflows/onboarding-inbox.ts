/**
 * The onboarding's inbox: everything the outside world tells it, kept until the process is ready to
 * act on it. Signal, update and query handlers only write to the inbox (or to the WABA's own facts:
 * templates and settings) and answer from it; the phases (workflows/onboarding-phases/) read it when
 * they wake (the handlers are in workflows/onboarding-handlers.ts). A run that continues as new hands its
 * inbox to the next, by type (`CarriedOver`).
 */
import type { IntentRequestedSignal, SignupCodeUpdate } from './messages';
import type { CloudApiNumbers, OnboardingInput, OnboardingState, ProcessState, TermsSource, WaitingPhase } from './types';

export interface OnboardingInbox {
  /** The terms are signed: the first source heard wins (webhook, its legacy twin, or a read of ONBOARDED). */
  terms?: { source: TermsSource; at: string };
  /** The business's intent workflow says its Intent API request stands (or failed). */
  intent?: IntentRequestedSignal;
  /** An account event a person must look at (restriction, violation, ban), not acted on yet. */
  attention?: string;
  /** The WABA is gone for this service (partner removed, offboarded, deleted): the onboarding ends. */
  offboarded?: string;
  /** Rechecks asked for (by an operator, a REINSTATE or a good signup while parked) and answered by a status read. */
  rechecks: { asked: number; answered: number };
  /** The Embedded Signup code being exchanged right now (it lives 30 s: exchanged the moment it lands). */
  signup?: SignupCodeUpdate;
  /** A drift check asked for and not yet made (workflows/drift-check.ts). */
  driftCheck?: { askedAt: string; cause: 'send' | 'status_webhook'; graphCode: number };
  /** Why the partner cancelled. */
  cancelReason?: string;
  /**
   * What the discovery that started this WABA already knew, each taken once by the first pass: its
   * status and numbers as its page listed them, and that it put the WABA on its business's Intent request.
   */
  discovery?: { status?: string; numbers?: CloudApiNumbers; joinedIntent?: boolean };
}

/** A new onboarding's inbox: empty, but for what its discovery knew. */
export function newInbox(input: OnboardingInput): OnboardingInbox {
  const { listedStatus: status, listedNumbers: numbers, intentJoined } = input;
  const discovery = { ...(status !== undefined ? { status } : {}), ...(numbers ? { numbers } : {}), ...(intentJoined ? { joinedIntent: true } : {}) };
  return { rechecks: { asked: 0, answered: 0 }, ...(Object.keys(discovery).length ? { discovery } : {}) };
}

/**
 * What a run hands the next when it continues as new, and nothing else: the phase it was waiting in,
 * its state (shown and private) and its inbox.
 */
export interface CarriedOver {
  phase: WaitingPhase;
  state: OnboardingState;
  process: ProcessState;
  inbox: OnboardingInbox;
}

/** The onboarding workflow's input: the partner's start, and what a run carries over to the next. */
export interface OnboardingRunInput extends OnboardingInput {
  /** Set only by the workflow itself when it continues as new. */
  carriedOver?: CarriedOver;
}
