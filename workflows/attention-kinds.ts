/**
 * What kind of problem parked an onboarding in NEEDS_ATTENTION, in one word, so operators can count
 * and filter thousands of parked WABAs by what fixes them (GET /v1/onboardings/summary, the Web UI's
 * `OnboardingReasonKind` column). Read from the reason's own words: every reason is written by this
 * service (graph-calls.ts, the phases, the account webhooks), so the rules below cover each one, and
 * anything else is `other`. Pure: the workflow and the API both import it.
 */
export const ATTENTION_KINDS = Object.freeze([
  /** Meta says the token is expired or invalid (codes 190, 102, 104; an invalid Embedded Signup token). */
  'expired_token',
  /** The token lacks a permission (codes 10, 200–299; Embedded Signup without a needed scope). */
  'missing_permission',
  /** Meta restricted, banned or flagged the account (account_update webhooks). */
  'restricted_account',
  /** No phone number of the WABA is on Cloud API, which MM API reuses. */
  'no_cloud_api_number',
  /** Meta's own status or answer: the Intent request failed, Meta refused a request, or no longer reports the WABA ONBOARDED (a drift check or a recheck after READY). */
  'meta_status',
  /** Graph (or Temporal, joining the business's request) did not answer through every retry. */
  'graph_unreachable',
  'other',
] as const);
export type AttentionKind = (typeof ATTENTION_KINDS)[number];

const RULES: ReadonlyArray<readonly [AttentionKind, RegExp]> = [
  ['expired_token', /\(HTTP \d+, code (190|102|104)\b|token is not valid/],
  ['missing_permission', /\(HTTP \d+, code (10|2\d\d)\b|token lacks /],
  ['restricted_account', /^(ACCOUNT_RESTRICTION|ACCOUNT_VIOLATION|DISABLED_UPDATE)\b/],
  ['no_cloud_api_number', /registered on Cloud API/],
  ['graph_unreachable', /kept failing|could not join the business's Intent request in Temporal/],
  ['meta_status', /^Graph API refused the request|^Intent API request failed|^drift check:|^Meta now reports|did not end after/],
];

export function attentionKindOf(reason: string | undefined): AttentionKind {
  if (!reason) return 'other';
  for (const [kind, rule] of RULES) if (rule.test(reason)) return kind;
  return 'other';
}
