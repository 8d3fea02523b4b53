/**
 * A list row's triage fields, read from what the onboarding writes with its status
 * (workflows/triage-attributes.ts): why it is in its status (its memo), since when, READY's readyAt
 * and NEEDS_ATTENTION's reason kind (search attributes). A work queue in one list call, no query per row.
 */
import type { Payload } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/client';
import {
  OnboardingReadyAtKey,
  OnboardingReasonKindKey,
  OnboardingStatusSinceKey,
  RetiredStatusReasonKey,
} from '../../temporal/search-attributes';
import { rowReason, STATUS_REASON_MEMO } from '../../temporal/memo-fields';
import { ATTENTION_KINDS, type AttentionKind } from '../../workflows/attention-kinds';
import type { OnboardingStatus } from '../../workflows/types';

export interface TriageFields {
  statusReason?: string;
  /** When the onboarding entered its status (a run that has not changed status yet: its start). */
  statusSince?: string;
  /** READY only. */
  readyAt?: string;
  /** NEEDS_ATTENTION only. */
  reasonKind?: AttentionKind;
}

export function triageFields(
  fields: Record<string, Payload>,
  memo: Record<string, Payload>,
  status: OnboardingStatus | undefined,
  startTime: string | undefined,
): TriageFields {
  // A run of a build before the memo carried it has its reason in the retired Text attribute.
  // A status's standing reason is not in the memo (temporal/memo-fields.ts).
  const reason = rowReason(status, first(memo, STATUS_REASON_MEMO) ?? first(fields, RetiredStatusReasonKey.name));
  const since = isoOf(first(fields, OnboardingStatusSinceKey.name)) ?? startTime;
  const readyAt = isoOf(first(fields, OnboardingReadyAtKey.name));
  const kind = first(fields, OnboardingReasonKindKey.name);
  return {
    ...(reason ? { statusReason: reason } : {}),
    ...(since ? { statusSince: since } : {}),
    ...(status === 'READY' && readyAt ? { readyAt } : {}),
    ...(status === 'NEEDS_ATTENTION' && ATTENTION_KINDS.includes(kind as AttentionKind) ? { reasonKind: kind as AttentionKind } : {}),
  };
}

function first(fields: Record<string, Payload>, name: string): string | undefined {
  const payload = fields[name];
  if (!payload) return undefined;
  const value: unknown = defaultPayloadConverter.fromPayload(payload);
  const one = Array.isArray(value) ? value[0] : value;
  return typeof one === 'string' ? one : undefined;
}

function isoOf(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}
