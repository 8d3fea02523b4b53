/**
 * Meta's webhook envelope and the `account_update` changes that matter to an onboarding
 * (shared/seed/mm-api-onboarding.txt, CONTRACT.md "Meta's behaviour"). Parsing is loose where Meta may
 * add fields, strict where the service depends on a value.
 */
import { z } from 'zod';
import { ACCOUNT_ATTENTION_EVENTS, type AccountAttentionEvent } from '../../workflows/types';
import type { AccountEventSignal, TermsSignedSignal } from '../../workflows/messages';
import { TEMPLATE_STATUS_FIELD, templateStatusAction, type TemplateStatusAction } from './template-status';

export const WABA_OBJECT = 'whatsapp_business_account';
/** Meta batches up to 1000 updates in one POST. */
export const MAX_BATCH = 1000;
/** Event details end up in workflow state and history: keep them a readable size. */
const MAX_DETAIL = 500;

/** Meta sends ids as strings; a number is accepted too (JSON numbers above 2^53 lose digits, so Meta avoids them). */
const metaId = z.union([z.string().regex(/^\d{1,32}$/), z.number().int().nonnegative()]).transform(String);

const change = z.object({ field: z.string(), value: z.unknown() });

const entry = z.object({
  id: metaId,
  /** Unix seconds; the seed shows it as a string placeholder, so both are read. */
  time: z.union([z.number(), z.string()]).optional(),
  changes: z.array(change).max(MAX_BATCH),
});

export const webhookEnvelope = z.object({
  object: z.string(),
  entry: z.array(entry).max(MAX_BATCH),
});
export type WebhookEnvelope = z.infer<typeof webhookEnvelope>;
type Entry = WebhookEnvelope['entry'][number];

const accountUpdate = z.looseObject({
  event: z.string(),
  waba_info: z
    .looseObject({
      waba_id: metaId.optional(),
      owner_business_id: metaId.optional(),
      ad_account_id: metaId.optional(),
      ad_account_linked: metaId.optional(),
    })
    .optional(),
  ban_info: z.looseObject({ waba_ban_state: z.string().optional(), waba_ban_date: z.string().optional() }).optional(),
  violation_info: z.looseObject({ violation_type: z.string().optional() }).optional(),
  restriction_info: z
    .array(z.looseObject({ restriction_type: z.string().optional(), expiration: z.union([z.string(), z.number()]).optional() }))
    .optional(),
});
type AccountUpdate = z.infer<typeof accountUpdate>;

export const TERMS_EVENTS = ['MM_LITE_TERMS_SIGNED', 'AD_ACCOUNT_LINKED'] as const;
/** The label of events this service does not act on, so metrics keep a bounded set of values. */
export const UNKNOWN_EVENT = 'unknown';

/** What one change asks of Temporal (or why it asks nothing). */
export type WebhookAction =
  | { kind: 'terms_signed'; event: string; wabaId: string; businessId?: string; signal: TermsSignedSignal }
  | { kind: 'account_event'; event: AccountAttentionEvent; wabaId: string; signal: AccountEventSignal }
  | Extract<TemplateStatusAction, { kind: 'template_status' }>
  | { kind: 'ignore'; event: string; reason: string }
  | { kind: 'invalid'; event: string; reason: string };

/** Every change of every entry, in delivery order. */
export function actionsOf(envelope: WebhookEnvelope): WebhookAction[] {
  return envelope.entry.flatMap((e) => e.changes.map((c) => actionOf(e, c)));
}

export function actionOf(entry: Entry, change: Entry['changes'][number]): WebhookAction {
  if (change.field === TEMPLATE_STATUS_FIELD) return templateStatusAction(entry.id, change.value);
  if (change.field !== 'account_update') {
    return { kind: 'ignore', event: UNKNOWN_EVENT, reason: `field ${change.field} is not handled` };
  }
  const parsed = accountUpdate.safeParse(change.value);
  if (!parsed.success) {
    return { kind: 'invalid', event: UNKNOWN_EVENT, reason: 'account_update value has an unexpected shape' };
  }
  const value = parsed.data;
  const at = isoTime(entry.time);
  const wabaId = value.waba_info?.waba_id;

  if (value.event === 'MM_LITE_TERMS_SIGNED' || value.event === 'AD_ACCOUNT_LINKED') {
    // Key on waba_info.waba_id only: for these events entry.id is often the partner's business id,
    // and signalling (or starting!) a workflow under that id would be wrong.
    if (!wabaId) return { kind: 'invalid', event: value.event, reason: `${value.event} without waba_info.waba_id` };
    const legacy = value.event === 'AD_ACCOUNT_LINKED';
    const adAccountId = legacy ? (value.waba_info?.ad_account_id ?? value.waba_info?.ad_account_linked) : undefined;
    return {
      kind: 'terms_signed',
      event: value.event,
      wabaId,
      businessId: value.waba_info?.owner_business_id,
      signal: { source: legacy ? 'legacy_webhook' : 'webhook', ...(at ? { at } : {}), ...(adAccountId ? { adAccountId } : {}) },
    };
  }

  if (isAttentionEvent(value.event)) {
    // Restriction, violation and ban updates are sent on the WABA itself, so when they carry no
    // waba_info, entry.id is the WABA's id.
    return {
      kind: 'account_event',
      event: value.event,
      wabaId: wabaId ?? entry.id,
      signal: {
        event: value.event,
        detail: detailOf(value).slice(0, MAX_DETAIL),
        // REINSTATE (a lifted ban) makes a parked onboarding read its status at once and resume.
        ...(value.ban_info?.waba_ban_state ? { banState: value.ban_info.waba_ban_state.slice(0, 64) } : {}),
        ...(at ? { at } : {}),
      },
    };
  }

  return { kind: 'ignore', event: UNKNOWN_EVENT, reason: `account_update event ${value.event} is not handled` };
}

function isAttentionEvent(event: string): event is AccountAttentionEvent {
  return (ACCOUNT_ATTENTION_EVENTS as readonly string[]).includes(event);
}

/** A sentence a person can act on, from whatever the event carries. */
function detailOf(value: AccountUpdate): string {
  switch (value.event) {
    case 'ACCOUNT_RESTRICTION': {
      const restrictions = (value.restriction_info ?? []).map(
        (r) => `${r.restriction_type ?? 'restricted'}${r.expiration !== undefined ? ` until ${r.expiration}` : ''}`,
      );
      return restrictions.length ? `restricted: ${restrictions.join(', ')}` : 'the account is restricted';
    }
    case 'ACCOUNT_VIOLATION':
      return `policy violation${value.violation_info?.violation_type ? `: ${value.violation_info.violation_type}` : ''}`;
    case 'DISABLED_UPDATE': {
      const state = value.ban_info?.waba_ban_state ?? 'unknown';
      return `ban state ${state}${value.ban_info?.waba_ban_date ? ` (${value.ban_info.waba_ban_date})` : ''}`;
    }
    case 'PARTNER_REMOVED':
      return 'the business removed this partner from the WABA';
    case 'ACCOUNT_OFFBOARDED':
      return 'the WABA was offboarded from this partner';
    case 'ACCOUNT_DELETED':
      return 'the WABA was deleted';
    default:
      return value.event;
  }
}

/** Entry `time` is unix seconds (number or numeric string); anything else is left out. */
function isoTime(time: number | string | undefined): string | undefined {
  const seconds = typeof time === 'string' ? Number(time) : time;
  if (seconds === undefined || !Number.isFinite(seconds) || seconds <= 0) return undefined;
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
