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

export const SEARCH_ATTRIBUTES = Object.freeze([OnboardingStatusKey, WabaIdKey, BusinessIdKey, OnboardingPathKey, DiscoveryStatusKey]);
