import { fbtraceId } from './ids';

/**
 * Meta's error answers, as Graph sends them: `{ error: { message, type, code, error_subcode?,
 * is_transient?, fbtrace_id } }`, HTTP 400 for most (OAuthException included), 5xx for outages.
 */
export interface MetaErrorBody {
  message: string;
  type: string;
  code: number;
  error_subcode?: number;
  is_transient?: boolean;
  error_user_title?: string;
  error_user_msg?: string;
  /** WhatsApp's errors add this: `{ messaging_product, details }`. */
  error_data?: { messaging_product: 'whatsapp'; details: string };
}

export class MetaError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly body: MetaErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
  }

  toJSON() {
    return { error: { ...this.body, fbtrace_id: fbtraceId() } };
  }
}

/**
 * Not documented by Meta; the client recognises exactly this (graph/errors.ts
 * INTENT_ALREADY_SENT_SUBCODE). The sandbox may not import the app, so a test pins the two together.
 */
export const INTENT_ALREADY_SENT_SUBCODE = 2593107;

export const OAUTH_CODE_EXPIRED_SUBCODE = 36007;
export const OAUTH_CODE_INVALID_SUBCODE = 36008;
export const OAUTH_CODE_USED_SUBCODE = 36009;

export const metaErrors = {
  invalidToken: () =>
    new MetaError(400, { message: 'Invalid OAuth access token - Cannot parse access token', type: 'OAuthException', code: 190 }),
  missingToken: () =>
    new MetaError(400, { message: 'An access token is required to request this resource.', type: 'OAuthException', code: 104 }),
  tokenExpired: () =>
    new MetaError(400, {
      message: `Error validating access token: Session has expired on ${new Date(Date.now() - 3_600_000).toUTCString()}. The current time is ${new Date().toUTCString()}.`,
      type: 'OAuthException',
      code: 190,
      error_subcode: 463,
    }),
  permission: () =>
    new MetaError(400, {
      message: '(#200) Requires whatsapp_business_management permission to manage the object',
      type: 'OAuthException',
      code: 200,
    }),
  unsupported: (method: string, id: string) =>
    new MetaError(400, {
      message: `Unsupported ${method.toLowerCase()} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
      type: 'GraphMethodException',
      code: 100,
      error_subcode: 33,
    }),
  unknownPath: (path: string) =>
    new MetaError(400, { message: `Unknown path components: ${path}`, type: 'OAuthException', code: 2500 }),
  nonexistingField: (field: string, nodeType: string) =>
    new MetaError(400, {
      message: `(#100) Tried accessing nonexisting field (${field}) on node type (${nodeType})`,
      type: 'OAuthException',
      code: 100,
    }),
  invalidParameter: (message: string) =>
    new MetaError(400, { message: `(#100) ${message}`, type: 'OAuthException', code: 100 }),
  intentAlreadySent: () =>
    new MetaError(400, {
      message: 'An onboarding request has already been sent to this business.',
      type: 'OAuthException',
      code: 100,
      error_subcode: INTENT_ALREADY_SENT_SUBCODE,
      error_user_title: 'Request already sent',
      error_user_msg: 'The business has already received a request to onboard to Marketing Messages API for WhatsApp.',
    }),
  codeExpired: () =>
    new MetaError(400, {
      message: 'This authorization code has expired.',
      type: 'OAuthException',
      code: 100,
      error_subcode: OAUTH_CODE_EXPIRED_SUBCODE,
    }),
  codeInvalid: () =>
    new MetaError(400, {
      message: 'Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request',
      type: 'OAuthException',
      code: 100,
      error_subcode: OAUTH_CODE_INVALID_SUBCODE,
    }),
  codeUsed: () =>
    new MetaError(400, {
      message: 'This authorization code has been used.',
      type: 'OAuthException',
      code: 100,
      error_subcode: OAUTH_CODE_USED_SUBCODE,
    }),
  // ---- sends (WhatsApp's errors carry error_data.details) ----
  termsNotSigned: () =>
    whatsappError(
      131055,
      'Method not allowed',
      'The WhatsApp Business Account has not accepted the Marketing Messages API for WhatsApp terms of service, so /marketing_messages is not available to it.',
    ),
  templateSyncing: () =>
    whatsappError(
      131009,
      'Parameter value is not valid',
      'The marketing template is still being synced to the ad account (up to 10 minutes after onboarding, creation, or first reuse after 7 days unused). Try again later.',
    ),
  notMarketingTemplate: (category: string) =>
    whatsappError(100, 'Invalid parameter', `Only marketing templates can be sent through /marketing_messages; this template's category is ${category}.`),
  templateOnly: () => whatsappError(100, 'Invalid parameter', 'Only template messages can be sent through /marketing_messages.'),
  templateMissing: (name: string, language: string) =>
    whatsappError(132001, 'Template name does not exist in the translation', `template name (${name}) does not exist in ${language}`),
  templatePaused: () => whatsappError(132015, 'Template is Paused', 'The template is paused because of low quality.'),
  templateDisabled: () => whatsappError(132016, 'Template is disabled', 'The template has been disabled because of low quality.'),
  invalidClientId: () =>
    new MetaError(400, { message: 'Error validating application. Invalid application ID.', type: 'OAuthException', code: 101 }),
  invalidClientSecret: () =>
    new MetaError(400, { message: 'Error validating client secret.', type: 'OAuthException', code: 1 }),
  transient: () =>
    new MetaError(500, {
      message: 'An unexpected error has occurred. Please retry your request later.',
      type: 'OAuthException',
      code: 2,
      is_transient: true,
    }),
  serviceUnavailable: () =>
    new MetaError(503, { message: 'Service temporarily unavailable', type: 'FacebookApiException', code: 1, error_subcode: 99 }),
  /** The whole app's rate limit (code 4): `X-App-Usage` at 100 %, whichever business the call was for. */
  appThrottled: () =>
    new MetaError(
      400,
      { message: '(#4) Application request limit reached', type: 'OAuthException', code: 4, is_transient: true },
      { 'x-app-usage': appUsage(100) },
    ),
  /** Business use case throttling; the usage header says when access comes back. */
  throttled: (businessId: string, regainAccessMinutes: number) =>
    new MetaError(
      400,
      {
        message:
          '(#80008) There have been too many calls to this WhatsApp Business account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.',
        type: 'OAuthException',
        code: 80008,
        error_subcode: 2446079,
      },
      { 'x-business-use-case-usage': businessUseCaseUsage(businessId, { throttled: true, regainAccessMinutes }) },
    ),
};

function whatsappError(code: number, title: string, details: string): MetaError {
  return new MetaError(400, {
    message: `(#${code}) ${title}`,
    type: 'OAuthException',
    code,
    error_data: { messaging_product: 'whatsapp', details },
  });
}

/** `X-Business-Use-Case-Usage`: percentages of the business's allowance, and minutes until it is back. */
export function businessUseCaseUsage(
  businessId: string,
  { throttled = false, regainAccessMinutes = 0, percent = 1 }: { throttled?: boolean; regainAccessMinutes?: number; percent?: number } = {},
): string {
  const used = throttled ? 100 : percent;
  return JSON.stringify({
    [businessId]: [
      {
        type: 'whatsapp_business_management',
        call_count: used,
        total_cputime: used,
        total_time: used,
        estimated_time_to_regain_access: throttled ? regainAccessMinutes : 0,
      },
    ],
  });
}

/** `X-App-Usage`: percentages of the app's own allowance. */
export function appUsage(percent: number): string {
  return JSON.stringify({ call_count: percent, total_cputime: percent, total_time: percent });
}
