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
 * Triage at scale (docs/operations.md, "Triage"): why an onboarding is in its status, since when, and
 * (READY) since when it is ready, so a list page or the Web UI answers without a query per run.
 * Written with the status, in the same upsert. The reason is Text: it can outgrow a Keyword column.
 */
export const OnboardingStatusReasonKey = defineSearchAttributeKey('OnboardingStatusReason', SearchAttributeType.TEXT);
export const OnboardingStatusSinceKey = defineSearchAttributeKey('OnboardingStatusSince', SearchAttributeType.DATETIME);
export const OnboardingReadyAtKey = defineSearchAttributeKey('OnboardingReadyAt', SearchAttributeType.DATETIME);
/** NEEDS_ATTENTION's reason in one word (workflows/attention-kinds.ts): what the summary counts by. */
export const OnboardingReasonKindKey = defineSearchAttributeKey('OnboardingReasonKind', SearchAttributeType.KEYWORD);
/** The first run id of the discovery that started the onboarding: its outcomes are counted by it. */
export const DiscoveryRunIdKey = defineSearchAttributeKey('DiscoveryRunId', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = Object.freeze([
  OnboardingStatusKey,
  WabaIdKey,
  BusinessIdKey,
  OnboardingPathKey,
  DiscoveryStatusKey,
  OnboardingStatusReasonKey,
  OnboardingStatusSinceKey,
  OnboardingReadyAtKey,
  OnboardingReasonKindKey,
  DiscoveryRunIdKey,
]);

/** The name Temporal's CLI and the operator API give each type. */
export const SEARCH_ATTRIBUTE_TYPE_NAMES: Readonly<Record<string, 'Keyword' | 'Text' | 'Datetime'>> = Object.freeze({
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.TEXT]: 'Text',
  [SearchAttributeType.DATETIME]: 'Datetime',
});
