/**
 * What lets an operator triage from a list (GET /v1/onboardings, the summary, the Web UI): since when
 * the onboarding is in its status, READY's readyAt and NEEDS_ATTENTION's reason kind, as search
 * attributes written in the status's own upsert (onboarding-record.ts); the reason itself, free text,
 * in the memo (temporal/memo-fields.ts), never indexed. Pure.
 */
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { OnboardingReadyAtKey, OnboardingReasonKindKey, OnboardingStatusSinceKey } from '../temporal/search-attributes';
import { attentionKindOf } from './attention-kinds';
import type { OnboardingState } from './types';

export function triageAttributes(state: OnboardingState, at: string): SearchAttributeUpdatePair[] {
  return [
    { key: OnboardingStatusSinceKey, value: new Date(at) },
    { key: OnboardingReadyAtKey, value: state.status === 'READY' && state.readyAt ? new Date(state.readyAt) : null },
    { key: OnboardingReasonKindKey, value: state.status === 'NEEDS_ATTENTION' ? attentionKindOf(state.statusReason) : null },
  ];
}
