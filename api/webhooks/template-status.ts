/**
 * `message_template_status_update` changes: Meta's word on a template's review and quality state. The
 * onboarding tracks the WABA's marketing templates from READY on, and these keep it current: APPROVED
 * adds (or re-adds) one; PAUSED, DISABLED, REJECTED, PENDING_DELETION and DELETED make it not ready.
 */
import { z } from 'zod';
import type { TemplateStatusChange } from '../../workflows/template-readiness';

export const TEMPLATE_STATUS_FIELD = 'message_template_status_update';
/** The events the onboarding acts on; others (PENDING, FLAGGED, IN_APPEAL, ...) are acknowledged and counted. */
export const TEMPLATE_EVENTS = ['APPROVED', 'PAUSED', 'DISABLED', 'REJECTED', 'PENDING_DELETION', 'DELETED'] as const;
const MAX_TEXT = 300;

const templateId = z.union([z.string().regex(/^\d{1,32}$/), z.number().int().nonnegative()]).transform(String);

const templateStatusUpdate = z.looseObject({
  event: z.string(),
  message_template_id: templateId.optional(),
  message_template_name: z.string().min(1).max(512),
  message_template_language: z.string().min(1).max(32),
  message_template_category: z.string().optional(),
  reason: z.string().nullish(),
  other_info: z.looseObject({ title: z.string().optional(), description: z.string().optional() }).optional(),
});

export type TemplateStatusAction =
  | { kind: 'template_status'; event: string; wabaId: string; signal: TemplateStatusChange }
  | { kind: 'ignore'; event: string; reason: string }
  | { kind: 'invalid'; event: string; reason: string };

/** Template webhooks are sent on the WABA: `entry.id` is its id. */
export function templateStatusAction(wabaId: string, value: unknown): TemplateStatusAction {
  const parsed = templateStatusUpdate.safeParse(value);
  if (!parsed.success) return { kind: 'invalid', event: 'unknown', reason: `${TEMPLATE_STATUS_FIELD} value has an unexpected shape` };
  const v = parsed.data;
  if (!(TEMPLATE_EVENTS as readonly string[]).includes(v.event)) {
    return { kind: 'ignore', event: 'unknown', reason: `template event ${v.event.slice(0, 64)} is not acted on` };
  }
  if (v.message_template_category !== undefined && v.message_template_category !== 'MARKETING') {
    return { kind: 'ignore', event: v.event, reason: `template category ${v.message_template_category.slice(0, 64)} is not marketing` };
  }
  const reason = v.reason && v.reason !== 'NONE' ? v.reason : v.other_info?.title;
  return {
    kind: 'template_status',
    event: v.event,
    wabaId,
    signal: {
      name: v.message_template_name,
      language: v.message_template_language,
      ...(v.message_template_id !== undefined ? { id: v.message_template_id } : {}),
      status: v.event,
      ...(reason && v.event !== 'APPROVED' ? { reason: reason.slice(0, MAX_TEXT) } : {}),
    },
  };
}
