/**
 * `account_update` webhook bodies in the shapes Meta sends (seed doc and Meta's account_update
 * reference): `{ object, entry: [{ id, time, changes: [{ field, value }] }] }`, `time` in Unix seconds.
 */

export const ACCOUNT_EVENTS = [
  'ACCOUNT_RESTRICTION',
  'ACCOUNT_VIOLATION',
  'DISABLED_UPDATE',
  'PARTNER_REMOVED',
  'ACCOUNT_OFFBOARDED',
  'ACCOUNT_DELETED',
] as const;
export type AccountEvent = (typeof ACCOUNT_EVENTS)[number];

export interface AccountUpdateChange {
  /** `entry[].id`: the partner's business for MM_LITE_TERMS_SIGNED and PARTNER_*, else the WABA. */
  entryId: string;
  value: Record<string, unknown> & { event: string };
}

export interface WebhookBody {
  object: 'whatsapp_business_account';
  entry: Array<{ id: string; time: number; changes: Array<{ field: 'account_update'; value: AccountUpdateChange['value'] }> }>;
}

/** Groups changes by entry id, as Meta batches them into one POST. */
export function accountUpdateBody(changes: AccountUpdateChange[], now = new Date()): WebhookBody {
  const time = Math.floor(now.getTime() / 1000);
  const entries = new Map<string, WebhookBody['entry'][number]>();
  for (const change of changes) {
    let entry = entries.get(change.entryId);
    if (!entry) entries.set(change.entryId, (entry = { id: change.entryId, time, changes: [] }));
    entry.changes.push({ field: 'account_update', value: change.value });
  }
  return { object: 'whatsapp_business_account', entry: [...entries.values()] };
}

export interface WabaRef {
  wabaId: string;
  ownerBusinessId: string;
  /** The solution provider's business; the owner when the WABA has no partner. */
  partnerBusinessId: string;
  adAccountId: string;
}

export const termsSigned = (w: WabaRef): AccountUpdateChange => ({
  entryId: w.partnerBusinessId,
  value: { event: 'MM_LITE_TERMS_SIGNED', waba_info: { owner_business_id: w.ownerBusinessId, waba_id: w.wabaId } },
});

/**
 * Legacy completion signal. The seed shows `ad_account_id` under an entry keyed by the WABA; Meta's
 * reference shows `ad_account_linked` under the partner's entry. Both occur.
 */
export const adAccountLinked = (w: WabaRef, field: 'ad_account_id' | 'ad_account_linked' = 'ad_account_id'): AccountUpdateChange => ({
  entryId: field === 'ad_account_id' ? w.wabaId : w.partnerBusinessId,
  value: {
    event: 'AD_ACCOUNT_LINKED',
    waba_info: { waba_id: w.wabaId, [field]: w.adAccountId, owner_business_id: w.ownerBusinessId },
  },
});

/**
 * Attention events. Restriction, violation, ban and deletion are keyed by the WABA and carry no
 * `waba_info` (receivers must fall back to `entry.id`); partner events carry `waba_info`.
 */
export function accountEvent(w: WabaRef, event: AccountEvent, extra: Record<string, unknown> = {}, now = new Date()): AccountUpdateChange {
  switch (event) {
    case 'ACCOUNT_RESTRICTION':
      return {
        entryId: w.wabaId,
        value: {
          event,
          restriction_info: [
            { restriction_type: 'RESTRICTED_BIZ_INITIATED_MESSAGING', expiration: metaTime(new Date(now.getTime() + 7 * 86_400_000)) },
          ],
          ...extra,
        },
      };
    case 'ACCOUNT_VIOLATION':
      return { entryId: w.wabaId, value: { event, violation_info: { violation_type: 'SCAM' }, ...extra } };
    case 'DISABLED_UPDATE':
      return {
        entryId: w.wabaId,
        value: { event, ban_info: { waba_ban_state: 'DISABLE', waba_ban_date: longDate(now) }, ...extra },
      };
    case 'ACCOUNT_DELETED':
      return { entryId: w.wabaId, value: { event, ...extra } };
    case 'PARTNER_REMOVED':
    case 'ACCOUNT_OFFBOARDED':
      return {
        entryId: w.partnerBusinessId,
        value: { event, waba_info: { waba_id: w.wabaId, owner_business_id: w.ownerBusinessId }, ...extra },
      };
  }
}

/** `message_template_status_update`, sent on the WABA (entry id = WABA id), as Meta shapes it. */
export function templateStatusBody(
  wabaId: string,
  t: { id: string; name: string; language: string; category: string; status: string; reason?: string },
  now = new Date(),
) {
  return {
    object: 'whatsapp_business_account' as const,
    entry: [
      {
        id: wabaId,
        time: Math.floor(now.getTime() / 1000),
        changes: [
          {
            field: 'message_template_status_update' as const,
            value: {
              event: t.status,
              message_template_id: Number(t.id),
              message_template_name: t.name,
              message_template_language: t.language,
              message_template_category: t.category,
              reason: t.reason ?? 'NONE',
            },
          },
        ],
      },
    ],
  };
}

/** Meta's datetime format: 2025-09-10T12:00:00+0000. */
export const metaTime = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, '+0000');

/** "April 17, 2025", as `waba_ban_date` arrives. */
const longDate = (d: Date) =>
  d.toLocaleDateString('en-US', { month: 'long', day: 'numeric', year: 'numeric', timeZone: 'UTC' });

/**
 * JSON the way Meta writes it: non-ASCII as \uXXXX and "/" as "\/". A receiver that re-serialises the
 * parsed body before checking the signature gets different bytes, as it would in production.
 */
export function metaJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(/\//g, '\\/');
}
