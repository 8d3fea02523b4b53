/**
 * Custom search attributes, so operators can filter runs in the Temporal Web UI
 * (e.g. `OnboardingStatus = "NEEDS_ATTENTION"`). Registered on start when missing
 * (temporal/search-attribute-registration.ts).
 *
 * Defined here once, for the workflows, the API, the workers and the scripts alike: the module imports
 * only @temporalio/common, so workflow code may import it.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const OnboardingStatusKey = defineSearchAttributeKey('OnboardingStatus', SearchAttributeType.KEYWORD);
export const WabaIdKey = defineSearchAttributeKey('WabaId', SearchAttributeType.KEYWORD);
export const BusinessIdKey = defineSearchAttributeKey('BusinessId', SearchAttributeType.KEYWORD);
export const OnboardingPathKey = defineSearchAttributeKey('OnboardingPath', SearchAttributeType.KEYWORD);

/** A discovery's RUNNING / COMPLETED / FAILED (its BusinessId is the partner portfolio it lists). */
export const DiscoveryStatusKey = defineSearchAttributeKey('DiscoveryStatus', SearchAttributeType.KEYWORD);

/**
 * Triage at scale (docs/operations.md, "Triage"): since when an onboarding is in its status and (READY)
 * since when it is ready, so a list page or the Web UI answers without a query per run. Written with
 * the status, in the same upsert. Why it is in its status is free text, so it is no search attribute:
 * it travels in the run's memo (temporal/memo-fields.ts).
 */
export const OnboardingStatusSinceKey = defineSearchAttributeKey('OnboardingStatusSince', SearchAttributeType.DATETIME);
export const OnboardingReadyAtKey = defineSearchAttributeKey('OnboardingReadyAt', SearchAttributeType.DATETIME);
/** NEEDS_ATTENTION's reason in one word (workflows/attention-kinds.ts): what the summary counts by. */
export const OnboardingReasonKindKey = defineSearchAttributeKey('OnboardingReasonKind', SearchAttributeType.KEYWORD);
/** The first run id of the discovery that started the onboarding: its outcomes are counted by it. */
export const DiscoveryRunIdKey = defineSearchAttributeKey('DiscoveryRunId', SearchAttributeType.KEYWORD);

/**
 * The partner endpoint (a hash of its host and path) whose circuit an onboarding's callbacks wait on
 * while the endpoint is down (workflows/partner-callback-circuit.ts): the circuit finds its waiters by it.
 */
export const PartnerCallbackWaitingKey = defineSearchAttributeKey('PartnerCallbackWaiting', SearchAttributeType.KEYWORD);

/**
 * Retired: earlier builds wrote the status's reason as this Text attribute. PostgreSQL's visibility
 * schema casts a Text value with a raw `::tsvector`, so a reason with a `:` (nearly all of them) or an
 * unbalanced `'` failed the run's whole visibility row, and the run froze in every list and count
 * (temporalio/temporal#11085). Never registered or written now; a run that brings it from an older
 * build clears it (workflows/onboarding-record.ts), and clusters that registered it keep it, unused.
 */
export const RetiredStatusReasonKey = defineSearchAttributeKey('OnboardingStatusReason', SearchAttributeType.TEXT);

/**
 * Every attribute the service registers: Keywords whose values are bounded (closed lists, Meta's ids as
 * digits, run ids; each far below the 255 characters SQL visibility stores) and Datetimes. No Text:
 * a visibility store may index it (PostgreSQL: `::tsvector`) in ways a value can break.
 */
export const SEARCH_ATTRIBUTES = Object.freeze([
  OnboardingStatusKey,
  WabaIdKey,
  BusinessIdKey,
  OnboardingPathKey,
  DiscoveryStatusKey,
  OnboardingStatusSinceKey,
  OnboardingReadyAtKey,
  OnboardingReasonKindKey,
  DiscoveryRunIdKey,
  PartnerCallbackWaitingKey,
]);

/** The name Temporal's CLI and the operator API give each type. */
export const SEARCH_ATTRIBUTE_TYPE_NAMES: Readonly<Record<string, 'Keyword' | 'Datetime'>> = Object.freeze({
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.DATETIME]: 'Datetime',
});
