/**
 * The search attributes that let an operator triage from a list (GET /v1/onboardings, the summary,
 * the Web UI): the status's reason, since when, READY's readyAt and NEEDS_ATTENTION's reason kind.
 * Written in the status's own upsert (onboarding-record.ts). Pure.
 */
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import {
  OnboardingReadyAtKey,
  OnboardingReasonKindKey,
  OnboardingStatusReasonKey,
  OnboardingStatusSinceKey,
} from '../temporal/search-attributes';
import { attentionKindOf } from './attention-kinds';
import type { OnboardingState } from './types';

/** Temporal refuses a search attribute value over 2 KB; a reason is a sentence, this keeps it one. */
export const MAX_INDEXED_REASON_CHARS = 500;

export function triageAttributes(state: OnboardingState, at: string): SearchAttributeUpdatePair[] {
  const reason = state.statusReason;
  return [
    { key: OnboardingStatusReasonKey, value: reason ? shorten(reason) : null },
    { key: OnboardingStatusSinceKey, value: new Date(at) },
    { key: OnboardingReadyAtKey, value: state.status === 'READY' && state.readyAt ? new Date(state.readyAt) : null },
    { key: OnboardingReasonKindKey, value: state.status === 'NEEDS_ATTENTION' ? attentionKindOf(reason) : null },
  ];
}

function shorten(text: string): string {
  return text.length <= MAX_INDEXED_REASON_CHARS ? text : `${text.slice(0, MAX_INDEXED_REASON_CHARS - 1)}…`;
}
