/**
 * One hosted Embedded Signup link (id `mm-signup-link:<linkId>`, never reused), from its first signup
 * attempt until the link would have expired anyway. Everything else about a link (expiry, business,
 * options) travels signed in the link itself; this run holds what the link cannot: whether it is
 * used, whether a signup through it is under way, and how many attempts failed.
 *
 * An attempt reserves the link first (an update whose validator refuses a used, busy or locked link,
 * so two customers can never both exchange a code through it) and finishes by saying how it went: a
 * signup makes the link used, a refusal for the customer's input (bad code, a WABA the token does not
 * cover, another business's WABA) counts toward MAX_FAILED_SIGNUP_ATTEMPTS, and any other failure
 * (Meta or Temporal unreachable) only releases it: an outage never locks a link. A reservation nobody
 * finishes (the API process died) lapses after SIGNUP_RESERVATION_LEASE_MS. The history stays bounded
 * however many attempts a link sees: every ATTEMPTS_PER_RUN attempts it continues as new, as it does
 * onto a new build, carrying its state.
 */
import { allHandlersFinished, ApplicationFailure, condition, defineQuery, defineUpdate, setHandler, workflowInfo } from '@temporalio/workflow';
import { continueOnCurrentBuild, DEFAULT_WAKE_EVERY_SECONDS, listenForWakes, newBuildIsCurrent } from './build-moves';

/** Failed attempts (the customer's input refused) after which the link is locked for good. */
export const MAX_FAILED_SIGNUP_ATTEMPTS = 5;
/** Attempts of any outcome one run takes before it continues as new: the ceiling on a run's history. */
export const ATTEMPTS_PER_RUN = 25;
/** A reservation its API process never finished lapses after this. */
export const SIGNUP_RESERVATION_LEASE_MS = 2 * 60_000;

/** Why a link refuses a reservation (the ApplicationFailure's type). */
export const SignupLinkRefusal = Object.freeze({
  used: 'SignupLinkUsed',
  busy: 'SignupLinkBusy',
  locked: 'SignupLinkLocked',
} as const);

export interface SignupLinkInput {
  linkId: string;
  /** The link's own expiry, ISO 8601. */
  expiresAt: string;
  /** The backstop wake-up (workflows/build-moves.ts); a week by default. */
  wakeEverySeconds?: number;
  /** Set only by the workflow itself when it continues as new onto a new build. */
  carriedOver?: SignupLinkState;
}

/** The input of runs started before reservations: the link was used when it started. */
export interface SignupLinkUse extends SignupLinkInput {
  wabaId: string;
  businessId: string;
  usedAt: string;
}

export interface SignupLinkState {
  linkId: string;
  expiresAt: string;
  used?: { wabaId: string; businessId: string; usedAt: string };
  /** The attempt holding the link now. */
  reservedBy?: string;
  attempts: number;
  failedAttempts: number;
}

export type SignupAttemptOutcome = 'used' | 'refused' | 'released';
export interface SignupAttemptEnd {
  attemptId: string;
  outcome: SignupAttemptOutcome;
  /** With `used`. */
  use?: { wabaId: string; businessId: string; usedAt: string };
}

export const reserveSignupLinkUpdate = defineUpdate<SignupLinkState, [{ attemptId: string }]>('reserveSignupLink');
export const finishSignupAttemptUpdate = defineUpdate<SignupLinkState, [SignupAttemptEnd]>('finishSignupAttempt');
export const getSignupLinkQuery = defineQuery<SignupLinkState>('getSignupLink');

export const signupLinkWorkflowId = (linkId: string) => `mm-signup-link:${linkId}`;

export async function signupLink(input: SignupLinkInput | SignupLinkUse): Promise<SignupLinkState> {
  const state: SignupLinkState = input.carriedOver ?? { linkId: input.linkId, expiresAt: input.expiresAt, attempts: 0, failedAttempts: 0 };
  if ('wabaId' in input && !input.carriedOver) state.used = { wabaId: input.wabaId, businessId: input.businessId, usedAt: input.usedAt };
  listenForWakes();
  let attemptsThisRun = 0;

  setHandler(getSignupLinkQuery, () => state);
  setHandler(
    reserveSignupLinkUpdate,
    ({ attemptId }) => {
      // The validator ran against this same state; this only guards against it ever being skipped.
      refuseReservation(state);
      state.reservedBy = attemptId;
      state.attempts++;
      attemptsThisRun++;
      return state;
    },
    { validator: (_attempt: { attemptId: string }) => refuseReservation(state) },
  );
  setHandler(finishSignupAttemptUpdate, ({ attemptId, outcome, use }) => {
    // A lapsed reservation's late answer changes nothing: another attempt may hold the link now.
    if (state.reservedBy !== attemptId) return state;
    state.reservedBy = undefined;
    if (outcome === 'used' && use) state.used = use;
    if (outcome === 'refused') state.failedAttempts++;
    return state;
  });

  const expiresAt = Date.parse(input.expiresAt);
  const wakeEveryMs = (input.wakeEverySeconds ?? DEFAULT_WAKE_EVERY_SECONDS) * 1000;
  // Between attempts, a link waits for the next one, its expiry, or a newer build of the workers.
  const idleUntil = (next: () => boolean) => condition(() => next() || newBuildIsCurrent(), Math.min(expiresAt - Date.now(), wakeEveryMs));
  // A new build is current, or this run has taken its share of attempts (or Temporal finds its history long).
  const timeToMove = () => newBuildIsCurrent() || attemptsThisRun >= ATTEMPTS_PER_RUN || workflowInfo().continueAsNewSuggested;
  // Ceiling: one pass per reservation (at most ATTEMPTS_PER_RUN in a run), one per backstop period,
  // and a move to a new run (on the current build) once nothing is under way.
  while (Date.now() < expiresAt) {
    const left = expiresAt - Date.now();
    const holder = state.reservedBy;
    if (holder) {
      const finished = await condition(() => state.reservedBy !== holder, Math.min(left, SIGNUP_RESERVATION_LEASE_MS));
      if (!finished && state.reservedBy === holder) state.reservedBy = undefined;
    } else if (timeToMove()) {
      await condition(allHandlersFinished);
      if (state.reservedBy === undefined) await continueOnCurrentBuild<typeof signupLink>({ linkId: state.linkId, expiresAt: state.expiresAt, ...(input.wakeEverySeconds ? { wakeEverySeconds: input.wakeEverySeconds } : {}), carriedOver: state });
    } else if (state.used || isSignupLinkLocked(state)) {
      await idleUntil(() => false);
    } else {
      await idleUntil(() => state.reservedBy !== undefined);
    }
  }
  await condition(allHandlersFinished);
  return state;
}

/** Locked for good: only refused codes count, never an attempt Meta or Temporal failed. */
export function isSignupLinkLocked(state: Pick<SignupLinkState, 'failedAttempts'>): boolean {
  return state.failedAttempts >= MAX_FAILED_SIGNUP_ATTEMPTS;
}

function refuseReservation(state: SignupLinkState): void {
  if (state.used) throw ApplicationFailure.nonRetryable('this signup link has already been used', SignupLinkRefusal.used);
  if (isSignupLinkLocked(state)) {
    throw ApplicationFailure.nonRetryable(
      `this signup link is locked after ${state.failedAttempts} refused signups; ask for a new link`,
      SignupLinkRefusal.locked,
    );
  }
  if (state.reservedBy) throw ApplicationFailure.nonRetryable('a signup through this link is under way', SignupLinkRefusal.busy);
}
