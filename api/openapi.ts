/**
 * The OpenAPI 3.1 document of /v1/*, generated from the zod schemas the routes validate with
 * (api/schemas.ts), so it always says what the API actually accepts. Served at /openapi.json.
 */
import { z } from 'zod';
import * as s from './schemas';

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

/** What any /v1 route may answer, whatever it does. */
const commonErrors = {
  '400': errorResponse('Invalid request: `details` names each failing field'),
  '401': errorResponse('Missing or unknown API key'),
  '408': errorResponse('The request (headers and body) was not received within a few seconds'),
  '431': errorResponse('The request headers are larger than 16 kB (code `headers_too_large`)'),
  '500': errorResponse('Unexpected error'),
  '503': errorResponse('Temporal is unreachable; retry'),
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
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'One of API_KEYS' } },
      schemas: {
        OnboardingState: schemaOf(s.onboardingState, 'output'),
        OnboardingList: schemaOf(s.onboardingList, 'output'),
        DiscoveryState: schemaOf(s.discoveryState, 'output'),
        Error: schemaOf(s.errorBody, 'output'),
      },
    },
    paths: {
      '/v1/onboardings': {
        post: {
          summary: "Start a WABA's onboarding (idempotent)",
          requestBody: { required: true, content: json(schemaOf(s.startOnboardingBody)) },
          responses: {
            '201': stateResponse('Started'),
            '200': stateResponse('Already running: the running onboarding'),
            ...commonErrors,
            ...bodyErrors,
          },
        },
        get: {
          summary: 'List onboardings (Temporal visibility: eventually consistent)',
          parameters: parametersOf(s.listOnboardingsQuery, 'query'),
          responses: { '200': { description: 'One page', content: json(ref('OnboardingList')) }, ...commonErrors },
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
        post: update("Re-read Meta's onboarding status now; resumes an onboarding in NEEDS_ATTENTION"),
      },
      '/v1/onboardings/{wabaId}/cancel': {
        post: update('Cancel: the status becomes CANCELLED', s.cancelBody),
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
