/**
 * The partner API's shapes, as zod schemas: requests are validated with them, and /openapi.json is
 * generated from them, so the document cannot drift from what the API accepts.
 * No transforms here: every schema must be representable as JSON Schema.
 */
import { z } from 'zod';
import { ONBOARDING_PATHS, ONBOARDING_STATUSES, TERMS_SOURCES } from '../workflows/types';
import { DISCOVERY_STATUSES, MIN_REPEAT_EVERY_SECONDS } from '../workflows/discovery-types';

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
  })
  .describe('Optional tuning; defaults are production values.');

export const startOnboardingBody = z.strictObject({
  wabaId: metaId('WhatsApp Business Account'),
  businessId: metaId('business portfolio'),
  path: z.enum(ONBOARDING_PATHS),
  options: onboardingOptions.optional(),
});

export const listOnboardingsQuery = z.strictObject({
  status: z.enum(ONBOARDING_STATUSES).optional(),
  businessId: metaId('business portfolio').optional(),
  path: z.enum(ONBOARDING_PATHS).optional(),
  pageSize: z.coerce.number().int().min(1).max(500).default(50).describe('Rows per page (1-500, default 50).'),
  pageToken: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,4096}$/, 'must be a nextPageToken from a previous page')
    .optional()
    .describe('nextPageToken from the previous page.'),
});

export const embeddedSignupBody = z.strictObject({
  code: z.string().min(1).max(4096).describe('The Embedded Signup OAuth code. It lives 30 seconds: send it at once.'),
  phoneNumberId: metaId('phone number').optional(),
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

export const discoveryIdParam = z.strictObject({
  id: z
    .string()
    .regex(/^mm-discovery:\d{1,32}$/, 'must be a discovery id as POST /v1/discoveries returned it (mm-discovery:<businessId>)')
    .describe('The discovery id (mm-discovery:<businessId>)'),
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
  messageActivitySharing: z.boolean().optional().describe("The WABA's recorded default for message_activity_sharing."),
  callbackFailure: z
    .looseObject({ eventId: z.string(), status: z.number().int(), at: z.string() })
    .optional()
    .describe('A partner callback the partner refused (4xx), so a person can look.'),
  history: z.array(statusChange),
});

export const onboardingSummary = z.looseObject({
  wabaId: z.string(),
  businessId: z.string().optional(),
  path: z.enum(ONBOARDING_PATHS).optional(),
  status: z.enum(ONBOARDING_STATUSES).optional(),
  workflowStatus: z.string().describe('Temporal execution status, e.g. RUNNING, COMPLETED.'),
  startTime: z.string().optional(),
});

export const onboardingList = z.looseObject({
  onboardings: z.array(onboardingSummary),
  nextPageToken: z.string().optional(),
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
  schedule: z
    .looseObject({ id: z.string(), everySeconds: z.number().int() })
    .optional()
    .describe('The Temporal Schedule that repeats this discovery'),
});

export const errorBody = z.looseObject({
  error: z.looseObject({
    code: z.string(),
    message: z.string(),
    details: z.array(z.looseObject({ in: z.enum(['body', 'params', 'query']), path: z.string(), message: z.string() })).optional(),
  }),
});
