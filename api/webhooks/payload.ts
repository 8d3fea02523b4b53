/**
 * Meta's webhook envelope and the `account_update` changes that matter to an onboarding
 * (shared seed document, "Meta's behaviour" in docs/api.md). Strict only on what the service depends on:
 * the envelope (`object`, `entry[]`, `changes[]`), each change's `field`, `value.event`, and the WABA id
 * it keys on. Every other field, in any format, is carried when it is usable and ignored when it is not:
 * it never costs a change. A change that cannot be used is counted and the rest of the delivery applies.
 */
import { z } from 'zod';
import { ACCOUNT_ATTENTION_EVENTS, type AccountAttentionEvent } from '../../workflows/types';
import type { AccountEventSignal, TermsSignedSignal } from '../../workflows/messages';
import { TEMPLATE_STATUS_FIELD, templateStatusAction, type TemplateStatusAction } from './template-status';
import { TEMPLATE_CATEGORY_FIELD, templateCategoryAction, type TemplateCategoryAction } from './template-category';
import { MESSAGES_FIELD, messageActivity, type MessageActivity } from './message-statuses';

export const WABA_OBJECT = 'whatsapp_business_account';
/** Meta batches up to 1000 updates in one POST: the cap is on the whole delivery, every entry's changes summed. */
export const MAX_CHANGES = 1000;
/** Event details end up in workflow state and history: keep them a readable size. */
const MAX_DETAIL = 500;
/** Ids we only carry (ad accounts) are kept verbatim, up to this length. */
const MAX_CARRIED_ID = 64;

/** Meta sends ids as strings; a number is accepted too (JSON numbers above 2^53 lose digits, so Meta avoids them). */
const metaId = z.union([z.string().regex(/^\d{1,32}$/), z.number().int().nonnegative()]).transform(String);
/** A field the service only passes along: any string or number, in any format; anything else is dropped. */
const carried = z
  .union([z.string(), z.number()])
  .transform((v) => String(v).slice(0, MAX_CARRIED_ID))
  .optional()
  .catch(undefined);
/** A string the service only shows to a person; anything else is dropped. */
const text = z.string().optional().catch(undefined);

/** What the receiver refuses a delivery for: a body that is not an envelope at all. */
export const webhookEnvelope = z.looseObject({
  object: z.string(),
  entry: z.array(z.unknown()),
});
export type WebhookEnvelope = z.infer<typeof webhookEnvelope>;

/**
 * One entry. Its `id` is only a fallback WABA id for account events (and may be the partner's business
 * id), so a malformed one is dropped, not fatal; `time` is read when it is unix seconds.
 */
const entrySchema = z.looseObject({
  id: metaId.optional().catch(undefined),
  // Optional: `messages` entries carry none, and a missing time never costs a change.
  time: z.unknown().optional(),
  changes: z.array(z.unknown()),
});
type Entry = z.infer<typeof entrySchema>;

const changeSchema = z.looseObject({ field: z.string(), value: z.unknown() });
type Change = z.infer<typeof changeSchema>;

const accountUpdate = z.looseObject({
  event: z.string(),
  // The WABA id is what a change is keyed on: present and malformed makes the change unusable.
  waba_info: z
    .looseObject({
      waba_id: metaId.optional(),
      owner_business_id: metaId.optional().catch(undefined),
      ad_account_id: carried,
      ad_account_linked: carried,
    })
    .optional(),
  ban_info: z.looseObject({ waba_ban_state: text, waba_ban_date: carried }).optional().catch(undefined),
  violation_info: z.looseObject({ violation_type: text }).optional().catch(undefined),
  restriction_info: z
    .array(z.looseObject({ restriction_type: text, expiration: carried }).catch({}))
    .optional()
    .catch(undefined),
});
type AccountUpdate = z.infer<typeof accountUpdate>;

export const TERMS_EVENTS = ['MM_LITE_TERMS_SIGNED', 'AD_ACCOUNT_LINKED'] as const;
/** The label of events this service does not act on, so metrics keep a bounded set of values. */
export const UNKNOWN_EVENT = 'unknown';

/** What one change asks of Temporal (or why it asks nothing). */
export type WebhookAction =
  | { kind: 'terms_signed'; event: string; wabaId: string; businessId?: string; signal: TermsSignedSignal; implausibleTime?: number }
  | { kind: 'account_event'; event: AccountAttentionEvent; wabaId: string; signal: AccountEventSignal; implausibleTime?: number }
  | Extract<TemplateStatusAction, { kind: 'template_status' }>
  | Extract<TemplateCategoryAction, { kind: 'template_category' }>
  | MessageActivity
  | { kind: 'ignore'; event: string; reason: string }
  | { kind: 'invalid'; event: string; reason: string };

/** How many changes the delivery carries, over all its entries (what the cap counts). */
export function changeCount(envelope: WebhookEnvelope): number {
  return envelope.entry.reduce<number>((sum, e) => sum + (Array.isArray((e as Entry | null)?.changes) ? (e as Entry).changes.length : 1), 0);
}

/** Every change of every entry, in delivery order; an entry without a `changes` list is one unusable item. */
export function actionsOf(envelope: WebhookEnvelope, receivedAt = Date.now()): WebhookAction[] {
  return envelope.entry.flatMap((raw): WebhookAction[] => {
    const entry = entrySchema.safeParse(raw);
    if (!entry.success) return [{ kind: 'invalid', event: UNKNOWN_EVENT, reason: 'entry without a changes list' }];
    return entry.data.changes.map((rawChange) => {
      const change = changeSchema.safeParse(rawChange);
      if (!change.success) return { kind: 'invalid', event: UNKNOWN_EVENT, reason: 'change without a field' };
      return actionOf(entry.data, change.data, receivedAt);
    });
  });
}

function actionOf(entry: Entry, change: Change, receivedAt: number): WebhookAction {
  // Statuses and clicks first: by far the most frequent (several per message sent).
  if (change.field === MESSAGES_FIELD) return messageActivity(entry.id, change.value);
  if (change.field === TEMPLATE_CATEGORY_FIELD) {
    if (!entry.id) return { kind: 'invalid', event: UNKNOWN_EVENT, reason: `${TEMPLATE_CATEGORY_FIELD} without a WABA id in entry.id` };
    return templateCategoryAction(entry.id, change.value);
  }
  if (change.field === TEMPLATE_STATUS_FIELD) {
    // Template updates are sent on the WABA: entry.id is its id, and there is nothing else to key on.
    if (!entry.id) return { kind: 'invalid', event: UNKNOWN_EVENT, reason: `${TEMPLATE_STATUS_FIELD} without a WABA id in entry.id` };
    return templateStatusAction(entry.id, change.value);
  }
  if (change.field !== 'account_update') {
    return { kind: 'ignore', event: UNKNOWN_EVENT, reason: `field ${change.field.slice(0, 64)} is not handled` };
  }
  const parsed = accountUpdate.safeParse(change.value);
  if (!parsed.success) {
    return { kind: 'invalid', event: eventLabel(change.value), reason: reasonOf(parsed.error) };
  }
  const value = parsed.data;
  const { at, implausible } = timeOf(entry.time, receivedAt);
  const implausibleTime = implausible !== undefined ? { implausibleTime: implausible } : {};
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
      ...implausibleTime,
    };
  }

  if (isAttentionEvent(value.event)) {
    // Restriction, violation and ban updates are sent on the WABA itself, so when they carry no
    // waba_info, entry.id is the WABA's id.
    const entryWaba = wabaId ?? entry.id;
    if (!entryWaba) return { kind: 'invalid', event: value.event, reason: `${value.event} without a WABA id (waba_info.waba_id or entry.id)` };
    return {
      kind: 'account_event',
      event: value.event,
      wabaId: entryWaba,
      signal: {
        event: value.event,
        detail: detailOf(value).slice(0, MAX_DETAIL),
        // REINSTATE (a lifted ban) makes a parked onboarding read its status at once and resume.
        ...(value.ban_info?.waba_ban_state ? { banState: value.ban_info.waba_ban_state.slice(0, 64) } : {}),
        ...(at ? { at } : {}),
      },
      ...implausibleTime,
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

/** Meta's clock is believed up to a day ahead of ours and a year back (it retries for days, not years). */
const PLAUSIBLE_AHEAD_MS = 24 * 3600 * 1000;
const PLAUSIBLE_BACK_MS = 365 * 24 * 3600 * 1000;

/**
 * Entry `time` is unix seconds (number or numeric string); anything else (an object, a date string) is
 * left out. A time outside the plausible window (e.g. 99999999999, the year 5138, or 1, the year 1970)
 * is replaced by the receive time, and `implausible` carries what Meta sent, for the log.
 */
function timeOf(time: unknown, receivedAt: number): { at?: string; implausible?: number } {
  const seconds = typeof time === 'string' && time.trim() !== '' ? Number(time) : time;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return {};
  const ms = seconds * 1000;
  if (ms > receivedAt + PLAUSIBLE_AHEAD_MS || ms < receivedAt - PLAUSIBLE_BACK_MS) {
    return { at: new Date(receivedAt).toISOString(), implausible: seconds };
  }
  return { at: new Date(ms).toISOString() };
}

/** The metric label of a change we could not use: its event when it is one we know, else "unknown". */
function eventLabel(value: unknown): string {
  const event = (value as { event?: unknown } | null)?.event;
  return typeof event === 'string' && (TERMS_EVENTS.includes(event as never) || isAttentionEvent(event)) ? event : UNKNOWN_EVENT;
}

/** Which depended-on field was wrong, by its path (never its value). */
function reasonOf(error: z.ZodError): string {
  const paths = [...new Set(error.issues.map((i) => i.path.map(String).join('.') || 'value'))];
  return `account_update value unusable: ${paths.slice(0, 3).join(', ')}`;
}
