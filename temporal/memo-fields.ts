/**
 * What an onboarding keeps in its memo for list results. Temporal returns each run's memo with a
 * visibility listing and indexes none of it, so free text is safe there on every visibility store,
 * where a Text search attribute is not (temporal/search-attributes.ts, RetiredStatusReasonKey).
 *
 * Defined here once, for the workflow that writes it and the API that reads it: no imports, so
 * workflow code may import it.
 */

/** Why the onboarding is in its status: the state's `statusReason`, shortened to a list row's size. */
export const STATUS_REASON_MEMO = 'statusReason';

/** A reason is a sentence; this keeps a list row (and the memo, which Temporal caps) one. */
export const MAX_LISTED_REASON_CHARS = 500;

/**
 * Reasons that only say what their status always means: the memo leaves them out and list rows read
 * them from here, so a run's way to READY writes no memo (each write is a billed action).
 */
export const STANDING_REASONS: Readonly<Record<string, string>> = Object.freeze({
  REQUESTING_INTENT: 'asking Meta to email the business admins the MM API terms',
  AWAITING_SIGNUP: 'waiting for the Embedded Signup code from the partner',
  SYNCING_TEMPLATES: 'waiting for Meta to sync marketing templates to the ad account',
});

/** What the memo keeps of a status's reason: nothing for its standing reason. */
export function memoReason(status: string, reason: string | undefined): string | undefined {
  return reason !== undefined && STANDING_REASONS[status] === reason ? undefined : listedReason(reason);
}

/** A list row's reason: the memo's, else the status's standing reason. */
export function rowReason(status: string | undefined, inMemo: string | undefined): string | undefined {
  return inMemo ?? (status === undefined ? undefined : STANDING_REASONS[status]);
}

export function listedReason(reason: string | undefined): string | undefined {
  if (!reason) return undefined;
  return reason.length <= MAX_LISTED_REASON_CHARS ? reason : `${reason.slice(0, MAX_LISTED_REASON_CHARS - 1)}…`;
}

/**
 * The run's readiness version (workflows/readiness-version.ts): bumped whenever a template, a send
 * record or a setting a send reads changes. The send gate compares it (with the run id and the
 * OnboardingStatus search attribute) through a describe, which is no billed action, instead of a query.
 */
export const READINESS_VERSION_MEMO = 'readinessVersion';
