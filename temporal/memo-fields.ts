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
