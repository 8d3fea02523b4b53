import { z } from 'zod';

/**
 * The shapes of Meta's answers we rely on, and nothing more: unknown extra fields pass through
 * silently and status values stay plain strings, so a new value Meta adds is data, not a crash.
 */

const graphId = z.string().min(1);

/** Meta's list paging. `next` is present only when there is more; a short page is not the end. */
export const paging = z.object({
  cursors: z.object({ before: z.string().optional(), after: z.string().optional() }).optional(),
  next: z.string().optional(),
  previous: z.string().optional(),
});

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), paging: paging.optional() });

export const wabaOnboardingStatus = z.object({
  id: graphId,
  marketing_messages_onboarding_status: z.string().optional(),
  /** Deprecated from v24.0; read only when the new field is absent. */
  marketing_messages_lite_api_status: z.string().optional(),
});

export const phoneNumber = z.object({
  id: graphId,
  display_phone_number: z.string().optional(),
  platform_type: z.string().optional(),
  status: z.string().optional(),
  code_verification_status: z.string().optional(),
});

/** Meta writes times as ISO strings ("2025-09-10T12:00:00+0000"); accept Unix seconds too. */
const graphTime = z.union([
  z.string(),
  z.number().transform((seconds) => new Date(seconds * 1000).toISOString()),
]);

export const businessOnboardingStatus = z.object({
  id: graphId,
  marketing_messages_onboarding_status: z.object({
    status: z.string(),
    time: graphTime.optional(),
  }),
});

export const intentRequest = z.object({
  // Ids are strings in Graph JSON, but a number here would still identify the request.
  request_id: z.union([z.string(), z.number().transform(String)]).optional(),
});

export const accessToken = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.number().optional(),
});

export const success = z.object({ success: z.literal(true) });

/** `GET /<WABA_ID>?fields=owner_business_info`: the business that owns the WABA. */
export const wabaOwner = z.object({ owner_business_info: z.object({ id: graphId, name: z.string().optional() }) });

export const clientWaba = z.object({
  id: graphId,
  name: z.string().optional(),
  marketing_messages_onboarding_status: z.string().optional(),
  /** The end business that owns the WABA (the partner only shares it). */
  owner_business_info: z.object({ id: graphId, name: z.string().optional() }).optional(),
  /** The `phone_numbers` edge, when asked for by field expansion: its first page, nested. */
  phone_numbers: z
    .object({ data: z.array(phoneNumber), paging: z.object({ next: z.string().optional() }).optional() })
    .optional(),
});

/** A row of `/<WABA_ID>/message_templates`; category and status stay strings (Meta adds values). */
export const messageTemplate = z.object({
  id: graphId,
  name: z.string().min(1),
  language: z.string().min(1),
  status: z.string(),
  category: z.string().optional(),
});

/** Meta's answer to a send, on `/messages` and `/marketing_messages` alike; kept whole for the partner. */
export const sentMessage = z.looseObject({
  messaging_product: z.string().optional(),
  contacts: z.array(z.looseObject({ input: z.string().optional(), wa_id: z.string().optional() })).optional(),
  messages: z.array(z.looseObject({ id: z.string().min(1), message_status: z.string().optional() })).min(1),
});

/** `GET /debug_token?input_token=…`: what a token may do, and for which objects. */
export const debugToken = z.object({
  data: z.object({
    is_valid: z.boolean().optional(),
    app_id: z.string().optional(),
    expires_at: z.number().optional(),
    scopes: z.array(z.string()).optional(),
    granular_scopes: z.array(z.object({ scope: z.string(), target_ids: z.array(z.string()).optional() })).optional(),
  }),
});
