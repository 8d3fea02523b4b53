/**
 * The OpenAPI 3.1 document of /v1/*, generated from the zod schemas the routes validate with
 * (api/partner/schemas.ts), so it always says what the API actually accepts. Served at /openapi.json.
 */
import { z } from 'zod';
import * as s from '../partner/schemas';
import * as insights from '../insights/insights-schemas';
import { INSIGHTS_ASKS_PER_MINUTE } from '../insights/insights-budget';
import { FAILURE_MEMORY_MS } from '../insights/insights-reader';

type JsonSchema = Record<string, unknown>;

/** JSON Schema (2020-12, which OpenAPI 3.1 uses) of what a client sends or receives. */
function schemaOf(schema: z.ZodType, io: 'input' | 'output' = 'input'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12' }) as JsonSchema;
  return rest;
}

function parametersOf(schema: z.ZodObject, where: 'path' | 'query') {
  return Object.entries(schema.shape).map(([name, field]) => {
    const fieldSchema = schemaOf(field as z.ZodType);
    const { description, ...rest } = fieldSchema;
    return {
      name,
      in: where,
      required: where === 'path' || !(field as z.ZodType).safeParse(undefined).success,
      schema: rest,
      ...(description ? { description } : {}),
    };
  });
}

const json = (schema: JsonSchema) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });
const retryAfter = {
  'Retry-After': { description: 'Seconds to wait before asking again (temporarily_unavailable, graph_throttled, rate_limited, a remembered graph_error)', schema: { type: 'string' } },
};
/** 503: Temporal down, or the run asked about cannot answer until it moves to the current build. */
const UNAVAILABLE =
  'temporal_unavailable: Temporal is unreachable; retry. temporarily_unavailable: the run this request needs is on a build whose ' +
  'workers are not polling (it is being moved to the current build): `Retry-After` (and details.retryAfterSeconds) says when to ask again';

/** What any /v1 route may answer, whatever it does. */
const commonErrors = {
  '400': errorResponse('Invalid request: `details` names each failing field'),
  '401': errorResponse('Missing or unknown API key'),
  '408': errorResponse('The request (headers and body) was not received within a few seconds'),
  '431': errorResponse('The request headers are larger than 16 kB (code `headers_too_large`)'),
  '500': errorResponse('Unexpected error'),
  '503': { description: UNAVAILABLE, headers: retryAfter, content: json(ref('Error')) },
};
/** What a POST may answer about its body. */
const bodyErrors = {
  '413': errorResponse('The request body is larger than 64 kB'),
  '415': errorResponse('Unsupported body encoding or charset'),
};
const stateResponse = (description: string) => ({ description, content: json(ref('OnboardingState')) });

export function openApiDocument(): Record<string, unknown> {
  const wabaId = parametersOf(s.wabaIdParam, 'path');
  const update = (summary: string, body?: z.ZodType, extra: Record<string, unknown> = {}) => ({
    summary,
    parameters: wabaId,
    ...(body ? { requestBody: { required: false, content: json(schemaOf(body)) } } : {}),
    responses: {
      '200': stateResponse('The onboarding after the request took effect'),
      ...commonErrors,
      ...bodyErrors,
      '404': errorResponse('No onboarding for this WABA'),
      '409': errorResponse('The onboarding refused the request in its current state (message says why)'),
      '504': errorResponse('The onboarding did not answer in time; repeating the request is safe'),
      ...extra,
    },
  });

  return {
    openapi: '3.1.0',
    info: {
      title: 'mm-onboarding partner API',
      version: '1.0.0',
      description:
        "Onboards WhatsApp Business Accounts to Meta's Marketing Messages API (MM Lite). " +
        'Errors are `{ "error": { "code", "message", "details"? } }`.',
    },
    servers: [{ url: '/' }],
    security: [{ bearerAuth: [] }],
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'One of API_KEYS' },
        metricsBearerAuth: { type: 'http', scheme: 'bearer', description: 'METRICS_BEARER_TOKEN (only /metrics, only when it is set)' },
      },
      schemas: {
        OnboardingState: schemaOf(s.onboardingState, 'output'),
        OnboardingList: schemaOf(s.onboardingList, 'output'),
        OnboardingSummary: schemaOf(s.onboardingSummary, 'output'),
        BulkRecheck: schemaOf(s.bulkRecheckState, 'output'),
        OnboardingCounts: schemaOf(s.onboardingCounts, 'output'),
        Template: schemaOf(s.template, 'output'),
        TemplateList: schemaOf(s.templateList, 'output'),
        SendResult: schemaOf(s.sendResult, 'output'),
        SignupLink: schemaOf(s.signupLink, 'output'),
        SignupCompletion: schemaOf(s.signupCompletion, 'output'),
        DiscoveryState: schemaOf(s.discoveryState, 'output'),
        Insights: schemaOf(insights.insightsAnswer, 'output'),
        Error: schemaOf(s.errorBody, 'output'),
      },
    },
    paths: {
      '/v1/onboardings': {
        post: {
          summary: "Start a WABA's onboarding (idempotent)",
          description:
            "`businessId` must be the WABA's owner on Meta (owner_business_info.id; on the intent path the Intent request " +
            'emails that business). Another business is 400 naming `businessId`, and nothing starts.',
          requestBody: { required: true, content: json(schemaOf(s.startOnboardingBody)) },
          responses: {
            '201': stateResponse('Started'),
            '200': stateResponse('Already running: the running onboarding'),
            ...commonErrors,
            ...bodyErrors,
          },
        },
        get: {
          summary: 'List onboardings (Temporal visibility: eventually consistent); ?status=NEEDS_ATTENTION is the work queue, each row with its reason',
          description:
            'Filters: status, businessId, path, reasonKind (NEEDS_ATTENTION of that kind), olderThan (in the status since before a ' +
            'duration ago or a timestamp). sort=statusSince lists the oldest first (at most 1000 matching; more is 400 naming sort). ' +
            'With format=ndjson (or Accept: application/x-ndjson) every matching onboarding streams, one row a line, all pages; ' +
            'a failure after the first row ends the stream with one {"error": …} line.',
          parameters: parametersOf(s.listOnboardingsQuery, 'query'),
          responses: {
            '200': {
              description: 'One page; or, as NDJSON, every matching onboarding (one OnboardingSummary a line)',
              content: { ...json(ref('OnboardingList')), 'application/x-ndjson': { schema: ref('OnboardingSummary') } },
            },
            ...commonErrors,
          },
        },
      },
      '/v1/onboardings/summary': {
        get: {
          summary: 'Counts by status and, for NEEDS_ATTENTION, by reason kind (Temporal visibility: counts, or one listing of a businessId)',
          parameters: parametersOf(s.summaryQuery, 'query'),
          responses: { '200': { description: 'The counts', content: json(ref('OnboardingCounts')) }, ...commonErrors },
        },
      },
      '/v1/onboardings/{wabaId}': {
        get: {
          summary: "The onboarding's state",
          parameters: wabaId,
          responses: { '200': stateResponse('The state'), ...commonErrors, '404': errorResponse('No onboarding for this WABA') },
        },
      },
      '/v1/onboardings/{wabaId}/embedded-signup': {
        post: {
          ...update('Hand over the Embedded Signup OAuth code (exchanged at once; it lives 30 s)', s.embeddedSignupBody),
          requestBody: { required: true, content: json(schemaOf(s.embeddedSignupBody)) },
        },
      },
      '/v1/onboardings/{wabaId}/recheck': {
        post: update("Re-read Meta's onboarding status now; resumes an onboarding in NEEDS_ATTENTION", undefined, {
          '202': stateResponse(
            "The recheck is asked but not answered within about 25 s: a status read already under way is retrying a Graph error and goes first, or Meta throttles the WABA's status reads and the read waits as long as Meta asks (the status is kept). The state, plus `recheck: { status: 'pending', reason }`; GET the onboarding for the outcome",
          ),
        }),
      },
      '/v1/onboardings/{wabaId}/cancel': {
        post: update('Cancel: the status becomes CANCELLED', s.cancelBody),
      },
      '/v1/onboardings/{wabaId}/templates': {
        get: {
          summary: "The WABA's marketing templates and whether each is safe to send through MM API now",
          parameters: wabaId,
          responses: {
            '200': { description: 'The tracked templates', content: json(ref('TemplateList')) },
            ...commonErrors,
            '404': errorResponse('No onboarding for this WABA'),
          },
        },
      },
      '/v1/onboardings/{wabaId}/templates/{name}': {
        get: {
          summary: 'One template: ready, readyAt, reason, lastSentAt',
          parameters: [...parametersOf(s.templateParams, 'path'), ...parametersOf(s.templateQuery, 'query')],
          responses: {
            '200': { description: 'The template', content: json(ref('Template')) },
            ...commonErrors,
            '400': errorResponse('Invalid request, or the template exists in several languages and `language` is missing'),
            '404': errorResponse('No onboarding for this WABA, or no such template tracked'),
          },
        },
      },
      '/v1/onboardings/{wabaId}/messages': {
        post: {
          summary: 'Send a marketing template: through /marketing_messages only when safe, else Cloud API (fallback) or 409',
          parameters: wabaId,
          requestBody: { required: true, content: json(schemaOf(s.sendMessageBody)) },
          responses: {
            '200': {
              description: 'Sent; `route` says which edge',
              headers: {
                'Server-Timing': {
                  description: "`gate;dur=<ms>, graph;dur=<ms>`: the gate's own time (arrival to answer, Graph's wait left out) and the wait for Graph",
                  schema: { type: 'string' },
                },
              },
              content: json(ref('SendResult')),
            },
            ...commonErrors,
            '400': errorResponse(
              "Invalid request: `details` names each failing field; also `phoneNumberId` when it is not one of the WABA's numbers, and `template.components` nested deeper than 32 levels",
            ),
            '404': errorResponse('No onboarding for this WABA'),
            '409': errorResponse(
              'Not sent, and no fallback asked. not_ready: not safe to send through MM API yet (details.readyAt when known). ' +
                "not_onboarded_on_meta: Meta refused the STRICT send as if the WABA were not onboarded (details.graphCode, 131055); a drift check re-reads Meta's status. " +
                'not_marketing: Meta recategorised the template (details.category). With fallback cloud_api each goes through /messages instead.',
            ),
            '502': errorResponse(
              "graph_error: Meta refused the send, or the read of the WABA's phone numbers for an unknown phoneNumberId (that failure is kept 2 s); details.code and details.subcode are Meta's",
            ),
          },
        },
      },
      '/v1/onboardings/{wabaId}/settings': {
        put: {
          summary: "Set the WABA's default message_activity_sharing for sends (null: none)",
          parameters: wabaId,
          requestBody: { required: true, content: json(schemaOf(s.settingsBody)) },
          responses: {
            '200': stateResponse('The onboarding with its new default'),
            ...commonErrors,
            '404': errorResponse('No onboarding for this WABA'),
            '409': errorResponse('The onboarding has ended'),
            '504': errorResponse('The onboarding did not answer in time; repeating the request is safe'),
          },
        },
      },
      '/v1/onboardings/{wabaId}/insights': {
        get: {
          summary: "A READY WABA's MM API performance per marketing template: sends, deliveries, reads, clicks, spend, benchmarks, conversions",
          description:
            "With ads_read on the token (the WABA's own Embedded Signup token, else META_ACCESS_TOKEN): the Marketing API's Insights " +
            "on each template's ad (`source: insights`, with `conversions`). Without it, or when Insights refuses: the WABA's " +
            '`template_analytics` of MM API sends (`source: template_analytics`, no conversions). One read of Meta per WABA every ' +
            '15 minutes, whatever the window and template set (every marketing template, day by day over the 90 days Meta keeps; ' +
            'each window is summed from it); `Cache-Control: max-age` says how long the answer holds. A failed read answers the ' +
            `same refusal for ${FAILURE_MEMORY_MS / 1000} s (or as long as Meta asked to wait). Each API key may ask ${INSIGHTS_ASKS_PER_MINUTE} times a minute.`,
          parameters: [...wabaId, ...parametersOf(insights.insightsQuery, 'query')],
          responses: {
            '200': {
              description: 'The figures, numbers as numbers',
              headers: { 'Cache-Control': { description: '`private, max-age=<seconds>`: how long this answer is served from memory', schema: { type: 'string' } } },
              content: json(ref('Insights')),
            },
            ...commonErrors,
            '400': errorResponse(
              'Invalid request: `details` names the parameter (a date that is not YYYY-MM-DD, until before since, a window over 90 days, ' +
                'since before the 90 days Meta keeps, until after today)',
            ),
            '404': errorResponse('No onboarding for this WABA'),
            '409': errorResponse('not_ready: the onboarding is not READY'),
            '429': {
              description: `rate_limited: this API key asked more than ${INSIGHTS_ASKS_PER_MINUTE} times in a minute (details.retryAfterSeconds)`,
              headers: retryAfter,
              content: json(ref('Error')),
            },
            '502': {
              description: `graph_error: Meta refused the read; the refusal is the answer for ${FAILURE_MEMORY_MS / 1000} s, \`Retry-After\` says how long`,
              headers: retryAfter,
              content: json(ref('Error')),
            },
            '503': {
              description: `graph_throttled: Meta is throttling the business (details.retryAfterSeconds). ${UNAVAILABLE}`,
              headers: retryAfter,
              content: json(ref('Error')),
            },
          },
        },
      },
      '/v1/embedded-signup': {
        post: {
          summary:
            "Embedded Signup from your own page: starts (or joins) the WABA's embedded_signup onboarding and exchanges the code in the same call",
          description:
            "Send what Meta's popup returned at once (the code lives 30 s): `waba_id`, `phone_number_id` and `business_id` from the " +
            'WA_EMBEDDED_SIGNUP message event, the code from the FB.login callback. Nothing starts until the code is exchanged, ' +
            "the token's permissions cover the WABA and `businessId` is the WABA's owner on Meta (owner_business_info.id): a " +
            'code Meta rejects is 400 naming `code`, a token granted for other WABAs only is 403 naming `wabaId`, another ' +
            'business is 400 naming `businessId`. The answer is the state after the exchange: `signupCompletedAt` set on ' +
            'success; a token that lacks one of whatsapp_business_management or whatsapp_business_messaging for this WABA parks ' +
            'the onboarding in NEEDS_ATTENTION (`missingPermissions`); without ads_read, `insightsAvailable: false`.',
          requestBody: { required: true, content: json(schemaOf(s.embeddedSignupStartBody)) },
          responses: {
            '201': stateResponse('Started, and the code exchanged'),
            '200': stateResponse('Joined the running onboarding, and the code exchanged'),
            ...commonErrors,
            '403': errorResponse("forbidden: the token from this code does not cover `wabaId` (details name it); nothing was started"),
            '409': errorResponse('The onboarding refused the code (another path, already signed up, ended)'),
            '502': errorResponse('graph_error: Meta did not answer the code exchange or the checks; nothing was started, sign up again'),
            '504': errorResponse('The onboarding did not answer in time'),
          },
        },
      },
      '/v1/signup-links': {
        post: {
          summary: "A link to the service's hosted Embedded Signup page, for one customer",
          description: 'The page carries no API key and no secret; the link works until `expiresAt` and until one signup through it succeeds.',
          requestBody: { required: false, content: json(schemaOf(s.signupLinkBody)) },
          responses: {
            '201': { description: 'The link', content: json(ref('SignupLink')) },
            ...commonErrors,
            '501': errorResponse('META_ES_CONFIG_ID is not set'),
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics (the onboarding counts at most a few seconds old)',
          description:
            'Open unless METRICS_BEARER_TOKEN is set; then only `Authorization: Bearer <METRICS_BEARER_TOKEN>` reads it. ' +
            'The counts from Temporal visibility are refreshed one set at a time, shared by concurrent scrapes.',
          security: [{}, { metricsBearerAuth: [] }],
          responses: {
            '200': { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } },
            '401': errorResponse('METRICS_BEARER_TOKEN is set and the request does not carry it'),
          },
        },
      },
      '/signup/{token}': {
        get: {
          summary: 'Public: the hosted Embedded Signup page',
          security: [],
          parameters: [{ name: 'token', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': { description: 'The page (text/html)', content: { 'text/html': { schema: { type: 'string' } } } },
            '404': { description: 'Unknown link: a plain page that says so', content: { 'text/html': { schema: { type: 'string' } } } },
            '410': { description: 'Expired, used-up or locked link: a plain page that says so', content: { 'text/html': { schema: { type: 'string' } } } },
            '503': {
              description: "Whether the link was used cannot be told now (Temporal unreachable, or the link's run on a build whose workers are not polling): a plain page asking to reload",
              headers: retryAfter,
              content: { 'text/html': { schema: { type: 'string' } } },
            },
          },
        },
      },
      '/signup/{token}/complete': {
        post: {
          summary: "Public, authorised by the link alone: what the hosted page posts when Meta's popup finishes",
          description:
            'The link is reserved for this attempt before the code is exchanged: a second completion meanwhile is 409, and once ' +
            'one signup through the link succeeds every other is 410. Nothing starts until the code is exchanged and the token ' +
            "covers `wabaId`; the business is the WABA's owner on Meta (the body's `businessId` is not used; a link naming " +
            'another business is 400 naming `businessId`). Five failed attempts (a refused code, a WABA the token does not ' +
            'cover, another business, a permission left out) lock the link: 410.',
          security: [],
          parameters: [{ name: 'token', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: { required: true, content: json(schemaOf(s.signupCompleteBody)) },
          responses: {
            '201': { description: 'Started the onboarding with the exchanged code (signupComplete false: a permission left out)', content: json(ref('SignupCompletion')) },
            '200': { description: 'Joined the running onboarding', content: json(ref('SignupCompletion')) },
            '400': errorResponse('Invalid request, a code Meta refused (`code`) or another business (`businessId`): `details` names the field'),
            '403': errorResponse('The token from this code does not cover `wabaId`; nothing was started'),
            '404': errorResponse('Unknown link'),
            '409': errorResponse('Another signup through this link is under way, or the onboarding refused the code'),
            '410': errorResponse('The link expired, was used, or is locked after five failed attempts'),
            '502': errorResponse('graph_error: Meta did not answer the code exchange or the checks; the link stays usable'),
            '503': { description: UNAVAILABLE, headers: retryAfter, content: json(ref('Error')) },
          },
        },
      },
      '/v1/rechecks': {
        post: {
          summary: 'Recheck every onboarding in NEEDS_ATTENTION of a business, of a reason kind, or both (one bulk recheck per filter at a time)',
          description:
            'Each parked onboarding the filter finds gets a recheck, as POST /v1/onboardings/{wabaId}/recheck would ask, at most ' +
            '10 a second; a WABA whose daily budget of status reads is spent refuses it (counted as refused). Answered at once with ' +
            'how many matched; GET /v1/rechecks/{id} (the Location header) follows it to the end.',
          requestBody: { required: true, content: json(schemaOf(s.bulkRecheckBody)) },
          responses: {
            '202': {
              description: 'Started: its progress so far',
              headers: { Location: { description: '/v1/rechecks/{id}', schema: { type: 'string' } } },
              content: json(ref('BulkRecheck')),
            },
            '200': {
              description: 'A bulk recheck of this filter is already running: that one',
              headers: { Location: { description: '/v1/rechecks/{id}', schema: { type: 'string' } } },
              content: json(ref('BulkRecheck')),
            },
            ...commonErrors,
            ...bodyErrors,
          },
        },
      },
      '/v1/rechecks/{id}': {
        get: {
          summary: "Progress of the filter's latest bulk recheck",
          parameters: parametersOf(s.bulkRecheckIdParam, 'path'),
          responses: { '200': { description: 'Its progress', content: json(ref('BulkRecheck')) }, ...commonErrors, '404': errorResponse('No bulk recheck with this id') },
        },
      },
      '/v1/discoveries': {
        post: {
          summary: "Discover the ELIGIBLE client WABAs of the partner's portfolio and onboard each (one discovery per portfolio at a time)",
          description:
            'Pages through /<businessId>/client_whatsapp_business_accounts filtered on marketing_messages_onboarding_status ' +
            'IN ["ELIGIBLE"] and starts one onboarding per WABA under its owner business (owner_business_info.id), so each ' +
            'end business gets one Intent API request. Onboardings already running are left alone and counted. With ' +
            'repeatEverySeconds a Temporal Schedule runs the discovery again at that interval.',
          requestBody: { required: true, content: json(schemaOf(s.startDiscoveryBody)) },
          responses: {
            '202': { description: 'Started', content: json(ref('DiscoveryState')) },
            '200': { description: "A discovery of this portfolio is already running: that one", content: json(ref('DiscoveryState')) },
            ...commonErrors,
            ...bodyErrors,
          },
        },
      },
      '/v1/discoveries/{id}': {
        get: {
          summary: "Progress of the portfolio's latest discovery",
          parameters: parametersOf(s.discoveryIdParam, 'path'),
          responses: {
            '200': { description: 'Its progress', content: json(ref('DiscoveryState')) },
            ...commonErrors,
            '404': errorResponse('No discovery with this id'),
          },
        },
      },
    },
  };
}
