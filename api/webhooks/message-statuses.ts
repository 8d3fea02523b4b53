/**
 * `messages` webhooks: message statuses (`value.statuses[]`, Meta's Cloud API shape, `pricing.category`
 * `marketing_lite` when MM API carried the message) and MM API link clicks (`value.user_actions[]`,
 * `action_type: marketing_messages_link_click`). They are the highest-volume webhooks Meta sends
 * (several per message), so they are only counted (api/ops/delivery-metrics.ts) and cost no Temporal
 * call, except that a status carrying 131055 (Meta no longer treats the WABA as onboarded) asks for the
 * bounded drift check (api/sends/drift-check.ts). Read by hand rather than with zod: only a few fields
 * matter, anything else is ignored, and a malformed item is skipped, never a reason to drop the rest.
 */
import { meansNotOnboarded } from '../sends/drift-check';
import type { Metrics } from '../ops/metrics';

export const MESSAGES_FIELD = 'messages';
export const LINK_CLICK_ACTION = 'marketing_messages_link_click';

/** Label values kept as they are; anything else is counted as `other`, so metrics stay bounded. */
const STATUSES = new Set(['sent', 'delivered', 'read', 'failed', 'deleted', 'warning', 'played', 'accepted', 'held_for_quality_assessment']);
const CATEGORIES = new Set([
  'marketing_lite',
  'marketing',
  'utility',
  'authentication',
  'authentication_international',
  'service',
  'referral_conversion',
  'marketing_messages',
]);
/** Distinct error codes labelled before the rest go under `other`. */
const MAX_ERROR_CODES = 200;
/** Items read per change; Meta batches far fewer. */
const MAX_ITEMS = 1000;

export interface MessageActivity {
  kind: 'message_activity';
  event: typeof MESSAGES_FIELD;
  /** The WABA (`entry.id`), when the entry names one. */
  wabaId?: string;
  statuses: Array<{ status: string; category: string; errorCodes: number[] }>;
  clicks: number;
  /** A status said Meta does not treat the WABA as onboarded (131055): its code. */
  notOnboardedCode?: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const label = (value: unknown, known: Set<string>, missing: string) =>
  typeof value !== 'string' || value === '' ? missing : known.has(value) ? value : 'other';

/** What one `messages` change reports; inbound messages and unknown keys are ignored. */
export function messageActivity(wabaId: string | undefined, value: unknown): MessageActivity {
  const activity: MessageActivity = { kind: 'message_activity', event: MESSAGES_FIELD, ...(wabaId ? { wabaId } : {}), statuses: [], clicks: 0 };
  if (!isObject(value)) return activity;
  const { statuses, user_actions: actions } = value;
  if (Array.isArray(statuses)) {
    for (const s of statuses.slice(0, MAX_ITEMS)) {
      if (!isObject(s)) continue;
      const errorCodes: number[] = [];
      if (Array.isArray(s.errors)) {
        for (const e of s.errors) {
          const code = isObject(e) ? Number(e.code) : NaN;
          if (Number.isSafeInteger(code) && code >= 0) errorCodes.push(code);
        }
      }
      const pricing = isObject(s.pricing) ? s.pricing : undefined;
      activity.statuses.push({ status: label(s.status, STATUSES, 'other'), category: label(pricing?.category, CATEGORIES, 'none'), errorCodes });
      const notOnboarded = errorCodes.find((c) => meansNotOnboarded(c));
      if (notOnboarded !== undefined) activity.notOnboardedCode = notOnboarded;
    }
  }
  if (Array.isArray(actions)) {
    for (const a of actions.slice(0, MAX_ITEMS)) if (isObject(a) && a.action_type === LINK_CLICK_ACTION) activity.clicks++;
  }
  return activity;
}

/** Error-code labels, bounded: the first MAX_ERROR_CODES distinct codes seen by this process, then `other`. */
export class ErrorCodeLabels {
  private readonly seen = new Set<string>();
  of(code: number): string {
    const key = String(code);
    if (this.seen.has(key)) return key;
    if (this.seen.size >= MAX_ERROR_CODES || key.length > 9) return 'other';
    this.seen.add(key);
    return key;
  }
}

/** Counts one change's statuses, errors and clicks. */
export function countMessageActivity(metrics: Metrics, errorCodes: ErrorCodeLabels, activity: MessageActivity): void {
  metrics.webhookChanges.inc({ event: MESSAGES_FIELD, outcome: 'counted' });
  // One increment per distinct (status, category): a delivery's statuses mostly share both.
  const perLabel = new Map<string, { status: string; category: string; n: number }>();
  for (const s of activity.statuses) {
    const key = `${s.status}\u0000${s.category}`;
    const counted = perLabel.get(key);
    if (counted) counted.n++;
    else perLabel.set(key, { status: s.status, category: s.category, n: 1 });
    for (const code of s.errorCodes) metrics.messageErrors.inc({ code: errorCodes.of(code) });
  }
  for (const { status, category, n } of perLabel.values()) metrics.messageStatuses.inc({ status, category }, n);
  if (activity.clicks) metrics.linkClicks.inc(activity.clicks);
}
