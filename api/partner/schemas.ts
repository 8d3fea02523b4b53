/**
 * The partner API's shapes, as zod schemas: requests are validated with them, and /openapi.json is
 * generated from them, so the document cannot drift from what the API accepts.
 * No transforms here: every schema must be representable as JSON Schema.
 */
import { z } from 'zod';
import { ONBOARDING_PATHS, ONBOARDING_STATUSES, TERMS_SOURCES } from '../../workflows/types';
import { DISCOVERY_STATUSES, MIN_REPEAT_EVERY_SECONDS } from '../../workflows/discovery-types';
import { ATTENTION_KINDS } from '../../workflows/attention-kinds';
import { olderThanCutoff } from './older-than';
import { BULK_RECHECK_ID_SOURCE, BULK_RECHECK_STATUSES } from '../../workflows/bulk-recheck-types';

/** Meta's ids are decimal digits; anything else never reaches a workflow id or a visibility query. */
const metaId = (what: string) =>
  z.string().regex(/^\d{1,32}$/, `must be a ${what} id (digits only)`).describe(`${what} id (digits)`);

export const wabaIdParam = z.strictObject({ wabaId: metaId('WhatsApp Business Account') });

export const onboardingOptions = z
  .strictObject({
    templateSyncGraceSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 3600)
      .optional()
      .describe("Wait after the terms are signed, for Meta's template-to-ad-account sync. Default 600."),
    statusPollIntervalSeconds: z
      .number()
      .int()
      .min(1)
      .max(24 * 3600)
      .optional()
      .describe('First re-check of the status field while waiting; backs off to at most a day. Default 3600.'),
    termsDeadlineSeconds: z
      .number()
      .int()
      .min(1)
      .max(366 * 24 * 3600)
      .optional()
      .describe('Waiting for the terms longer than this ends in EXPIRED. Default 30 days.'),
    solutionId: z
      .string()
      .regex(/^[\w-]{1,64}$/, 'must be a solution id')
      .optional()
      .describe('Intent API solution_id.'),
    messageActivitySharing: z.boolean().optional().describe("The WABA's recorded default for message_activity_sharing."),
    templateIdleSeconds: z
      .number()
      .int()
      .min(1)
      .max(366 * 24 * 3600)
      .optional()
      .describe('A template unused this long re-syncs on its next send (not ready until templateSyncGraceSeconds after it). Default 604800 (7 days).'),
    wakeEverySeconds: z
      .number()
      .int()
      .min(60)
      .max(7 * 24 * 3600)
      .optional()
      .describe('No wait of the onboarding lasts longer than this without waking, so a new release of the service always reaches it. Default 604800 (7 days), the most allowed.'),
  })
  .describe('Optional tuning; defaults are production values.');

export const startOnboardingBody = z.strictObject({
  wabaId: metaId('WhatsApp Business Account'),
  businessId: metaId('business portfolio').describe("The business that owns the WABA: it must be the owner Meta names (owner_business_info.id)."),
  path: z.enum(ONBOARDING_PATHS),
  options: onboardingOptions.optional(),
});

export const LIST_SORTS = Object.freeze(['statusSince', '-statusSince'] as const);
export type ListSort = (typeof LIST_SORTS)[number];

export const listOnboardingsQuery = z.strictObject({
  status: z.enum(ONBOARDING_STATUSES).optional(),
  businessId: metaId('business portfolio').optional(),
  path: z.enum(ONBOARDING_PATHS).optional(),
  reasonKind: z.enum(ATTENTION_KINDS).optional().describe('Only onboardings parked in NEEDS_ATTENTION with this reason kind.'),
  olderThan: z
    .string()
    .max(64)
    .refine((v) => olderThanCutoff(v, Date.now()) !== undefined, {
      message: 'must be a duration (90s, 30m, 12h, 7d, 2w, P7D, PT12H) or an ISO 8601 timestamp with its zone',
    })
    .optional()
    .describe('Only onboardings in their status since before then: a duration ago (7d, 12h, P7D) or a timestamp (2026-12-01T00:00:00Z).'),
  sort: z
    .enum(LIST_SORTS)
    .optional()
    .describe(
      'statusSince: oldest in its status first (the work queue\'s order); -statusSince: newest first. Sorts at most 1000 matching onboardings: narrow the filters, or export them (format=ndjson).',
    ),
  format: z.enum(['json', 'ndjson']).optional().describe('ndjson: every matching onboarding, one JSON row a line, all pages streamed (as Accept: application/x-ndjson).'),
  pageSize: z.coerce.number().int().min(1).max(500).default(50).describe('Rows per page (1-500, default 50).'),
  pageToken: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,4096}$/, 'must be a nextPageToken from a previous page')
    .optional()
    .describe('nextPageToken from the previous page.'),
});

export const summaryQuery = z.strictObject({
  businessId: metaId('business portfolio').optional().describe('Count only the onboardings of this business.'),
});

export const embeddedSignupBody = z.strictObject({
  code: z.string().min(1).max(4096).describe('The Embedded Signup OAuth code. It lives 30 seconds: send it at once.'),
  phoneNumberId: metaId('phone number').optional(),
});

const signupCode = z
  .string()
  .min(1)
  .max(4096)
  .describe('The Embedded Signup OAuth code from the popup. It lives 30 seconds: send it at once.');

export const embeddedSignupStartBody = z.strictObject({
  code: signupCode,
  wabaId: metaId('WhatsApp Business Account').describe('waba_id from the popup\'s WA_EMBEDDED_SIGNUP message event.'),
  businessId: metaId('business portfolio').describe(
    "The customer's business portfolio (business_id from the popup, or your own record); it must be the WABA's owner on Meta (owner_business_info.id), else 400 naming it.",
  ),
  phoneNumberId: metaId('phone number').optional(),
  options: onboardingOptions.optional(),
});

export const MAX_SIGNUP_LINK_SECONDS = 30 * 24 * 3600;
export const DEFAULT_SIGNUP_LINK_SECONDS = 7 * 24 * 3600;

export const signupLinkBody = z.strictObject({
  businessId: metaId('business portfolio')
    .optional()
    .describe("The customer's business portfolio, when known: a signup through the link must be for a WABA it owns on Meta. Else the WABA's owner on Meta is used."),
  options: onboardingOptions.optional(),
  expiresInSeconds: z
    .number()
    .int()
    .min(1)
    .max(MAX_SIGNUP_LINK_SECONDS)
    .optional()
    .describe('How long the link works: default 7 days, at most 30.'),
  partnerName: z.string().trim().min(1).max(80).optional().describe('Your name as the customer knows it, shown on the page.'),
});

export const signupTokenParam = z.strictObject({ token: z.string().max(4096) });

export const signupCompleteBody = z.strictObject({
  code: signupCode,
  wabaId: metaId('WhatsApp Business Account'),
  phoneNumberId: metaId('phone number').optional(),
  businessId: metaId('business portfolio').optional().describe("The popup's business_id: not used, the WABA's owner on Meta is."),
});

export const cancelBody = z.strictObject({
  reason: z.string().max(500).optional(),
});

export const startDiscoveryBody = z.strictObject({
  businessId: metaId('business portfolio').describe(
    "The partner's business portfolio id: the one whose client_whatsapp_business_accounts lists its customers' WABAs.",
  ),
  path: z.enum(ONBOARDING_PATHS).optional().describe('Path of every onboarding started. Default "intent".'),
  options: onboardingOptions.optional(),
  repeatEverySeconds: z
    .number()
    .int()
    .min(MIN_REPEAT_EVERY_SECONDS)
    .max(366 * 24 * 3600)
    .optional()
    .describe('Also run this discovery again at this interval (a Temporal Schedule), picking up WABAs that become eligible later. At least 3600.'),
});

export const bulkRecheckBody = z.strictObject({
  businessId: metaId('business portfolio').optional().describe('Recheck the NEEDS_ATTENTION onboardings of this business (e.g. after its token or permission was fixed).'),
  reasonKind: z.enum(ATTENTION_KINDS).optional().describe('Recheck the NEEDS_ATTENTION onboardings of this reason kind. With businessId: both must hold. At least one of the two.'),
});

export const bulkRecheckIdParam = z.strictObject({
  id: z
    .string()
    .regex(new RegExp(BULK_RECHECK_ID_SOURCE), 'must be a bulk recheck id as POST /v1/rechecks returned it (mm-recheck:<businessId|all>:<reasonKind|all>)')
    .describe('The bulk recheck id (mm-recheck:<businessId|all>:<reasonKind|all>)'),
});

export const discoveryIdParam = z.strictObject({
  id: z
    .string()
    .regex(/^mm-discovery:\d{1,32}$/, 'must be a discovery id as POST /v1/discoveries returned it (mm-discovery:<businessId>)')
    .describe('The discovery id (mm-discovery:<businessId>)'),
});

// ---- after READY: templates, sends, settings ------------------------------------------------------

/** Meta's rule for template names; the insights query's `template` too (api/insights/insights-schemas.ts). */
export const templateName = z.string().regex(/^[a-z0-9_]{1,512}$/, 'must be a template name (lower case letters, digits, _)');
const templateLanguage = z
  .string()
  .regex(/^[a-z]{2,3}(_[A-Za-z0-9]{2,4})?$/, 'must be a template language code, e.g. en_US')
  .describe('Template language code, e.g. en_US.');

export const templateParams = z.strictObject({ wabaId: metaId('WhatsApp Business Account'), name: templateName });
export const templateQuery = z.strictObject({
  language: templateLanguage.optional().describe('Needed when the template exists in several languages.'),
});

export const sendMessageBody = z.strictObject({
  phoneNumberId: metaId('phone number').describe("The WABA's sending phone number id."),
  to: z.string().regex(/^\+?[0-9][0-9 ()-]{3,30}$/, 'must be a phone number').describe("The recipient's phone number."),
  template: z.strictObject({
    name: templateName,
    language: templateLanguage,
    components: z
      .array(z.record(z.string(), z.unknown()))
      .max(20)
      .optional()
      .describe("Cloud API template components (header, body, button parameters), passed to Meta as given."),
  }),
  messageActivitySharing: z
    .boolean()
    .optional()
    .describe("message_activity_sharing for this send only; else the WABA's default (PUT .../settings); else left out."),
  fallback: z
    .enum(['cloud_api', 'none'])
    .optional()
    .describe('When the template is not safe to send through MM API yet: send through Cloud API /messages (cloud_api) or answer 409 (none, the default).'),
});
export type SendMessageBody = z.infer<typeof sendMessageBody>;

export const settingsBody = z.strictObject({
  messageActivitySharing: z
    .boolean()
    .nullable()
    .describe("The WABA's default for message_activity_sharing on sends; null: no default (Meta's WABA setting applies)."),
});

// ---- responses (documentation only) -------------------------------------------------------------
// Loose objects: the service may add fields to what it answers, and a client must ignore the ones it
// does not know. The test harness checks every /v1 answer against these (via /openapi.json).

const statusChange = z.looseObject({ status: z.enum(ONBOARDING_STATUSES), at: z.string(), reason: z.string().optional() });

export const onboardingState = z.looseObject({
  wabaId: z.string(),
  businessId: z.string(),
  path: z.enum(ONBOARDING_PATHS),
  status: z.enum(ONBOARDING_STATUSES),
  statusReason: z.string().optional(),
  eligibility: z.string().optional().describe('marketing_messages_onboarding_status as last read, verbatim.'),
  termsSignedAt: z.string().optional(),
  termsSource: z.enum(TERMS_SOURCES).optional(),
  readyAt: z.string().optional(),
  intentRequestId: z.string().optional().describe("The Intent API request that covers this WABA's business."),
  messageActivitySharing: z.boolean().optional().describe("The WABA's default for message_activity_sharing on sends (PUT .../settings)."),
  callbackFailure: z
    .looseObject({ eventId: z.string(), status: z.number().int(), at: z.string() })
    .optional()
    .describe('A partner callback the partner refused (4xx), so a person can look.'),
  signupCompletedAt: z.string().optional().describe('Embedded Signup: when the code was exchanged and the app subscribed.'),
  insightsAvailable: z.boolean().optional().describe('Embedded Signup: false when the customer did not grant ads_read.'),
  missingPermissions: z.array(z.string()).optional().describe('Embedded Signup: required permissions the customer did not grant.'),
  lastDriftCheck: z
    .looseObject({ at: z.string(), metaStatus: z.string(), cause: z.enum(['send', 'status_webhook']).optional() })
    .optional()
    .describe(
      "The last drift check: Meta's status re-read after it refused a send (or a message status said) 131055, at most once an hour. " +
        'ONBOARDED: the onboarding stays READY; anything else parks it in NEEDS_ATTENTION naming the status.',
    ),
  history: z.array(statusChange),
});

export const onboardingSummary = z.looseObject({
  wabaId: z.string(),
  businessId: z.string().optional(),
  path: z.enum(ONBOARDING_PATHS).optional(),
  status: z.enum(ONBOARDING_STATUSES).optional(),
  statusReason: z.string().optional().describe('Why the onboarding is in its status (as the state\'s statusReason, up to 500 characters).'),
  statusSince: z.string().optional().describe('When it entered its status (before its first change: its start).'),
  readyAt: z.string().optional().describe('READY only: since when.'),
  reasonKind: z.enum(ATTENTION_KINDS).optional().describe('NEEDS_ATTENTION only: what kind of problem, in one word.'),
  workflowStatus: z.string().describe('Temporal execution status, e.g. RUNNING, COMPLETED.'),
  startTime: z.string().optional(),
});

export const onboardingCounts = z.looseObject({
  businessId: z.string().optional(),
  total: z.number().int().describe('Onboardings GET /v1/onboardings lists with the same businessId, running or ended.'),
  byStatus: z.record(z.enum(ONBOARDING_STATUSES), z.number().int()),
  needsAttentionByKind: z.record(z.enum(ATTENTION_KINDS), z.number().int()).describe('The NEEDS_ATTENTION onboardings by reasonKind.'),
});

export const onboardingList = z.looseObject({
  onboardings: z.array(onboardingSummary),
  nextPageToken: z.string().optional(),
});

export const template = z.looseObject({
  name: z.string(),
  language: z.string(),
  id: z.string().optional(),
  status: z.string().describe("Meta's template status: APPROVED, PAUSED, DISABLED, REJECTED, PENDING_DELETION, DELETED, ..."),
  category: z
    .string()
    .optional()
    .describe("MARKETING, or the category Meta recategorised it to (template_category_update): then ready is false and sends answer 409 not_marketing."),
  categoryChangeAt: z.string().optional().describe('An impending recategorisation Meta announced: when it takes effect (nothing changes before).'),
  ready: z.boolean().describe('Safe to send through /marketing_messages now.'),
  readyAt: z.string().optional().describe('When a template that is not ready will be, where that is known.'),
  reason: z.string().optional().describe('Why it is not ready.'),
  lastSentAt: z.string().optional().describe('Last send through /marketing_messages, as recorded (at most once a day).'),
});

export const templateList = z.looseObject({ wabaId: z.string(), templates: z.array(template) });

export const sendResult = z.looseObject({
  route: z.enum(['marketing_messages', 'cloud_api']),
  messageId: z.string().describe("Meta's message id (wamid.…)."),
  graph: z.record(z.string(), z.unknown()).describe("Meta's answer, as it came."),
  notReadyReason: z.string().optional().describe('cloud_api only: why the template was not sent through MM API.'),
  readyAt: z.string().optional().describe('cloud_api only: when the template will be ready, where known.'),
});

export const signupLink = z.looseObject({
  id: z.string(),
  url: z.string().describe('The hosted signup page for one customer; carries no key or secret.'),
  expiresAt: z.string(),
});

export const signupCompletion = z.looseObject({
  wabaId: z.string(),
  status: z.enum(ONBOARDING_STATUSES),
  signupComplete: z.boolean(),
  missingPermissions: z.array(z.string()).optional(),
  message: z.string().optional(),
});

export const discoveryState = z.looseObject({
  id: z.string().describe('mm-discovery:<businessId>: one per portfolio; each run (yours or the schedule\'s) shows here'),
  businessId: z.string(),
  path: z.enum(ONBOARDING_PATHS),
  status: z.enum(DISCOVERY_STATUSES),
  pages: z.number().int().describe('Graph pages read'),
  found: z.number().int().describe('ELIGIBLE WABAs listed; each is counted once in started, alreadyRunning or failed'),
  started: z.number().int(),
  alreadyRunning: z.number().int().describe('WABAs whose onboarding was already running: left alone'),
  failed: z.number().int(),
  startedAt: z.string(),
  completedAt: z.string().optional(),
  error: z.string().optional(),
  onboardings: z
    .looseObject({
      ready: z.number().int(),
      awaitingTerms: z.number().int(),
      needsAttention: z.number().int(),
      ended: z.number().int(),
      inProgress: z.number().int(),
    })
    .optional()
    .describe(
      'What became of the onboardings this run started (Temporal visibility, a moment behind). Settled when status is not RUNNING and inProgress is 0.',
    ),
  schedule: z
    .looseObject({ id: z.string(), everySeconds: z.number().int() })
    .optional()
    .describe('The Temporal Schedule that repeats this discovery'),
});

export const bulkRecheckState = z.looseObject({
  id: z.string().describe('mm-recheck:<businessId|all>:<reasonKind|all>: one per filter at a time; asking again while it runs joins it'),
  businessId: z.string().optional(),
  reasonKind: z.enum(ATTENTION_KINDS).optional(),
  status: z.enum(BULK_RECHECK_STATUSES),
  matched: z.number().int().describe('NEEDS_ATTENTION onboardings the filter matched when asked (visibility, a moment behind)'),
  listed: z.number().int().describe('Parked onboardings found so far; each counted once in asked, refused, skipped or failed'),
  asked: z.number().int().describe('Rechecks the onboarding accepted: it reads Meta\'s status now'),
  refused: z.number().int().describe("Refused by the onboarding: the WABA's daily budget of 48 status reads is spent, or it ended"),
  skipped: z.number().int().describe('Its run ended between the listing and the recheck'),
  failed: z.number().int().describe('Temporal did not take the recheck within 5 s (e.g. no worker of the run\'s build polling): recheck again later'),
  startedAt: z.string(),
  completedAt: z.string().optional(),
  error: z.string().optional(),
});

export const errorBody = z.looseObject({
  error: z.looseObject({
    code: z.string(),
    message: z.string(),
    details: z
      .union([
        z.array(z.looseObject({ in: z.enum(['body', 'params', 'query']), path: z.string(), message: z.string() })),
        z.record(z.string(), z.unknown()),
      ])
      .optional()
      .describe(
        '400: one entry per failing field. 409 not_ready: { readyAt? }. 409 not_onboarded_on_meta: { graphCode }. ' +
          '409 not_marketing: { category }. 502 graph_error: { code, subcode } from Meta. ' +
          '503 temporarily_unavailable and graph_throttled: { retryAfterSeconds }, as in Retry-After.',
      ),
  }),
});
