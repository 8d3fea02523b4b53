import { Agent, request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import {
  classifyGraphError,
  GraphApiError,
  GraphRequestError,
  GraphResponseError,
  GraphThrottledError,
  INTENT_ALREADY_SENT_SUBCODE,
  networkError,
  redactSecrets,
} from './errors';
import * as schemas from './schemas';
import { inGraphCallSpan, recordGraphStatus } from './call-span';
import * as insights from './insights';
import type { AdInsights, DailySeries, DayRange, TemplateAnalytics, TemplateWithAd } from './insights';
import type { GraphUsage } from './usage';
import { endpointTemplate, errorCodeLabel } from './endpoint-template';

export interface GraphClientOptions {
  /** e.g. https://graph.facebook.com, without a trailing slash. */
  baseUrl: string;
  /** e.g. v24.0: the first path segment of every call. */
  version: string;
  /** The partner's system-user token, used unless a call is given another. */
  accessToken: string;
  appId: string;
  appSecret: string;
  /** Whole-call limit (connect, headers and body). Default 30 s. */
  timeoutMs?: number;
  /** Bring your own undici dispatcher (proxy, mock); the client then never closes it. */
  dispatcher?: Dispatcher;
  /** Meta's usage figures: every answer reports to it, every call waits its turn when usage runs high. */
  usage?: GraphUsage;
  /** Told of every call that failed (Meta's error, no answer, an answer of the wrong shape): mm_graph_errors_total. */
  onError?: (endpoint: string, code: string) => void;
}

export type OnboardingStatusField = 'marketing_messages_onboarding_status' | 'marketing_messages_lite_api_status';

export interface WabaOnboardingStatus {
  /** Verbatim, including values Meta adds after this was written. */
  status: string;
  /** Which field the status came from; the legacy one only when the new one was absent. */
  field: OnboardingStatusField;
}

export interface PhoneNumber {
  id: string;
  displayPhoneNumber?: string;
  platformType?: string;
  status?: string;
  codeVerificationStatus?: string;
}

export interface IntentRequestResult {
  requestId?: string;
  /** Meta answered that a request already stands for this business (no new request id). */
  alreadySent: boolean;
}

export interface ClientWaba {
  id: string;
  name?: string;
  onboardingStatus?: string;
}

export interface MessageTemplate {
  id: string;
  name: string;
  language: string;
  status: string;
  category?: string;
}

/** The two send edges: Cloud API's `/messages` and MM API's `/marketing_messages`. */
export type SendEdge = 'messages' | 'marketing_messages';

export interface SentMessage {
  messageId: string;
  /** Meta's answer as it came (contacts, messages, ...). */
  body: z.infer<typeof schemas.sentMessage>;
}

export interface TokenDebugInfo {
  valid: boolean;
  scopes: string[];
  /** Per-permission objects; no `targetIds` means every object the permission covers. */
  granularScopes: Array<{ scope: string; targetIds?: string[] }>;
  /** Unix seconds; 0 or absent: never. */
  expiresAt?: number;
}

export interface ClientWabaPage {
  wabas: Array<{
    id: string;
    ownerBusinessId?: string;
    /** The first page of the WABA's phone numbers; `complete` when it was the only one. */
    phoneNumbers?: { numbers: PhoneNumber[]; complete: boolean };
  }>;
  /** The cursor of the next page; absent on the last one (`paging.next` absent). */
  after?: string;
}

export interface BusinessOnboardingStatus {
  status: 'NOT_STARTED' | 'REQUEST_SENT' | 'TERM_OF_SERVICE_SIGNED' | (string & {});
  time?: string;
}

/** MM API reuses the Cloud API registration: only these numbers can send marketing messages. */
export const isRegisteredOnCloudApi = (n: Pick<PhoneNumber, 'platformType'>) => n.platformType === 'CLOUD_API';

const DEFAULT_TIMEOUT_MS = 30_000;
/** What the service reads of a phone number, on its own edge or expanded under a WABA. */
const PHONE_NUMBER_FIELDS = 'id,display_phone_number,platform_type,status,code_verification_status';

function phoneNumberOf(n: z.infer<typeof schemas.phoneNumber>): PhoneNumber {
  return dropUndefined({
    id: n.id,
    displayPhoneNumber: n.display_phone_number,
    platformType: n.platform_type,
    status: n.status,
    codeVerificationStatus: n.code_verification_status,
  });
}
/** Graph pages are small; anything near this is not a Graph answer. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** A cursor loop that never ends is Meta's bug; stop well past any real portfolio. */
const MAX_PAGES = 1_000;
/** Longer pacing waits give the activity slot back (a throttled failure that retries after the wait). */
const MAX_PACING_WAIT_MS = 5_000;
/** Meta's limit on `template_ids` in one `template_analytics` call. */
export const MAX_ANALYTICS_TEMPLATES = 10;

type Query = Record<string, string | undefined>;

interface Call<S extends z.ZodType> {
  method: 'GET' | 'POST';
  /** Path after the version, segments already encoded: "/123/phone_numbers". */
  path: string;
  query?: Query;
  json?: unknown;
  /** undefined: the system-user token; null: no Authorization header (the OAuth exchange). */
  token?: string | null;
  schema: S;
  /** Per-call secrets to keep out of errors, besides the client's own. */
  secrets?: string[];
}

/**
 * The typed Graph API client. It never retries: activities throw its errors and Temporal retries per
 * the error's class. It never logs, and no error it throws carries a token, the app secret or an OAuth
 * code.
 */
export class GraphClient {
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly timeoutMs: number;

  constructor(private readonly options: GraphClientOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.ownsDispatcher = options.dispatcher === undefined;
    // One keep-alive pool per client: onboarding bursts reuse a few TLS connections to graph.facebook.com.
    this.dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000 });
  }

  /** `GET /<WABA_ID>?fields=…`: the new status field, the legacy one only as a fallback. */
  async getWabaOnboardingStatus(wabaId: string, token?: string): Promise<WabaOnboardingStatus> {
    const body = await this.call({
      method: 'GET',
      path: `/${seg(wabaId)}`,
      query: { fields: 'marketing_messages_onboarding_status,marketing_messages_lite_api_status' },
      token,
      schema: schemas.wabaOnboardingStatus,
    });
    if (body.marketing_messages_onboarding_status !== undefined) {
      return { status: body.marketing_messages_onboarding_status, field: 'marketing_messages_onboarding_status' };
    }
    if (body.marketing_messages_lite_api_status !== undefined) {
      return { status: body.marketing_messages_lite_api_status, field: 'marketing_messages_lite_api_status' };
    }
    throw new GraphResponseError(`GET /${this.options.version}/${seg(wabaId)}: neither onboarding status field in the answer`, {
      httpStatus: 200,
    });
  }

  /**
   * The business that owns the WABA, as Meta says (`owner_business_info`). Asked with a customer's
   * token, an answer also proves the token may see the WABA.
   */
  async getWabaOwner(wabaId: string, token?: string): Promise<{ businessId: string }> {
    const body = await this.call({
      method: 'GET',
      path: `/${seg(wabaId)}`,
      query: { fields: 'owner_business_info' },
      token,
      schema: schemas.wabaOwner,
    });
    return { businessId: body.owner_business_info.id };
  }

  /** Every phone number of the WABA, across all pages. */
  async listPhoneNumbers(wabaId: string, token?: string): Promise<PhoneNumber[]> {
    const rows = await this.listAll({
      method: 'GET',
      path: `/${seg(wabaId)}/phone_numbers`,
      query: { fields: PHONE_NUMBER_FIELDS },
      token,
      schema: schemas.pageOf(schemas.phoneNumber),
    });
    return rows.map(phoneNumberOf);
  }

  /**
   * Intent API: asks Meta to invite the business's admins to sign the terms for all its WABAs. A repeat
   * may answer the same request id or an "already sent" error; both mean the request stands.
   */
  async requestIntent(businessId: string, solutionId?: string): Promise<IntentRequestResult> {
    try {
      const body = await this.call({
        method: 'POST',
        path: `/${seg(businessId)}/onboard_partners_to_mm_lite`,
        json: solutionId ? { solution_id: solutionId } : {},
        schema: schemas.intentRequest,
      });
      return dropUndefined({ requestId: body.request_id, alreadySent: false });
    } catch (err) {
      if (isAlreadySent(err)) return { alreadySent: true };
      throw err;
    }
  }

  /** Embedded Signup: trades the 30-second OAuth code for the business's token. */
  async exchangeCode(code: string): Promise<{ accessToken: string }> {
    const body = await this.call({
      method: 'GET',
      path: '/oauth/access_token',
      query: { client_id: this.options.appId, client_secret: this.options.appSecret, code },
      token: null,
      schema: schemas.accessToken,
      secrets: [code],
    });
    return { accessToken: body.access_token };
  }

  /**
   * What `token` may do (`GET /debug_token`), asked with the app's own token (`app_id|app_secret`),
   * which may inspect any token issued to the app.
   */
  async debugToken(token: string): Promise<TokenDebugInfo> {
    const body = await this.call({
      method: 'GET',
      path: '/debug_token',
      query: { input_token: token },
      token: `${this.options.appId}|${this.options.appSecret}`,
      schema: schemas.debugToken,
      secrets: [token],
    });
    const d = body.data;
    return dropUndefined({
      valid: d.is_valid ?? false,
      scopes: d.scopes ?? [],
      granularScopes: (d.granular_scopes ?? []).map((g) => dropUndefined({ scope: g.scope, targetIds: g.target_ids })),
      expiresAt: d.expires_at,
    });
  }

  /** Subscribes the partner app to the WABA's webhooks. */
  async subscribeApp(wabaId: string, token?: string): Promise<void> {
    await this.call({ method: 'POST', path: `/${seg(wabaId)}/subscribed_apps`, token, schema: schemas.success });
  }

  /** The partner's client WABAs, optionally only those whose onboarding status is one of `statuses`. */
  async listClientWabas(businessId: string, statuses?: string[]): Promise<ClientWaba[]> {
    const filtering = statuses?.length ? onboardingStatusFilter(statuses) : undefined;
    const rows = await this.listAll({
      method: 'GET',
      path: `/${seg(businessId)}/client_whatsapp_business_accounts`,
      query: { fields: 'id,name,marketing_messages_onboarding_status', filtering },
      schema: schemas.pageOf(schemas.clientWaba),
    });
    return rows.map((w) => dropUndefined({ id: w.id, name: w.name, onboardingStatus: w.marketing_messages_onboarding_status }));
  }

  /**
   * One page of the partner portfolio's client WABAs with the given onboarding statuses, each with its
   * owner business and, by field expansion, the first page of its phone numbers (so a discovered
   * WABA's Cloud API check costs no call of its own). Meta filters after cutting the page: a page may
   * be short or empty and still not be the last; only an absent `paging.next` ends the list.
   */
  async listClientWabasPage(portfolioId: string, opts: { statuses: string[]; after?: string; limit?: number }): Promise<ClientWabaPage> {
    const call = {
      method: 'GET' as const,
      path: `/${seg(portfolioId)}/client_whatsapp_business_accounts`,
      query: {
        fields: `id,owner_business_info,phone_numbers{${PHONE_NUMBER_FIELDS}}`,
        filtering: onboardingStatusFilter(opts.statuses),
        limit: opts.limit === undefined ? undefined : String(opts.limit),
        after: opts.after,
      },
      schema: schemas.pageOf(schemas.clientWaba),
    };
    const body = await this.call(call);
    const wabas = body.data.map((w) =>
      dropUndefined({
        id: w.id,
        ownerBusinessId: w.owner_business_info?.id,
        phoneNumbers: w.phone_numbers && { numbers: w.phone_numbers.data.map(phoneNumberOf), complete: !w.phone_numbers.paging?.next },
      }),
    );
    if (!body.paging?.next) return { wabas };
    const after = body.paging.cursors?.after;
    if (!after || after === opts.after) {
      throw new GraphResponseError(`GET ${this.pathOf(call)}: paging.next without a new cursors.after`, { httpStatus: 200 });
    }
    return { wabas, after };
  }

  /** On a business portfolio the status field is an object: `{ status, time }`. */
  async getBusinessOnboardingStatus(businessId: string): Promise<BusinessOnboardingStatus> {
    const body = await this.call({
      method: 'GET',
      path: `/${seg(businessId)}`,
      query: { fields: 'marketing_messages_onboarding_status' },
      schema: schemas.businessOnboardingStatus,
    });
    return dropUndefined({
      status: body.marketing_messages_onboarding_status.status,
      time: body.marketing_messages_onboarding_status.time,
    });
  }

  /** The WABA's templates with the given category and status (Meta filters; checked again here), every page. */
  async listMessageTemplates(
    wabaId: string,
    filter: { category: string; status: string },
    token?: string,
  ): Promise<MessageTemplate[]> {
    const rows = await this.listAll({
      method: 'GET',
      path: `/${seg(wabaId)}/message_templates`,
      query: { fields: 'id,name,language,status,category', category: filter.category, status: filter.status, limit: '100' },
      token,
      schema: schemas.pageOf(schemas.messageTemplate),
    });
    return rows
      .filter((t) => t.status === filter.status && (t.category === undefined || t.category === filter.category))
      .map((t) => dropUndefined({ id: t.id, name: t.name, language: t.language, status: t.status, category: t.category }));
  }

  /** Every template of the WABA with its ad (`ad_id`, `ad_account_id`), every page: what Insights is read on. */
  async listTemplatesWithAds(wabaId: string, token?: string): Promise<TemplateWithAd[]> {
    const rows = await this.listAll({
      method: 'GET',
      path: `/${seg(wabaId)}/message_templates`,
      query: { fields: 'id,name,language,category,ad_id,ad_account_id', limit: '100' },
      token,
      schema: schemas.pageOf(insights.templateWithAd),
    });
    return rows.map((t) => dropUndefined({ id: t.id, name: t.name, language: t.language, category: t.category, adId: t.ad_id, adAccountId: t.ad_account_id }));
  }

  /**
   * One page of the WABA's templates with their ads (100 a page, Meta's cursor in `after`): what a page
   * of the paged insights read starts from, so no answer holds the whole template book.
   */
  async listTemplatesWithAdsPage(wabaId: string, opts: { after?: string }, token?: string): Promise<{ templates: TemplateWithAd[]; after?: string }> {
    const call = {
      method: 'GET' as const,
      path: `/${seg(wabaId)}/message_templates`,
      query: { fields: 'id,name,language,category,ad_id,ad_account_id', limit: '100', after: opts.after },
      token,
      schema: schemas.pageOf(insights.templateWithAd),
    };
    const body = await this.call(call);
    const templates = body.data.map((t) => dropUndefined({ id: t.id, name: t.name, language: t.language, category: t.category, adId: t.ad_id, adAccountId: t.ad_account_id }));
    if (!body.paging?.next) return { templates };
    const after = body.paging.cursors?.after;
    if (!after || after === opts.after) {
      throw new GraphResponseError(`GET ${this.pathOf(call)}: paging.next without a new cursors.after`, { httpStatus: 200 });
    }
    return { templates, after };
  }

  /** Marketing API Insights of one template's ad over `since`..`until` (YYYY-MM-DD, inclusive); needs `ads_read`. */
  async getAdInsights(adId: string, range: { since: string; until: string }, token?: string): Promise<AdInsights> {
    const body = await this.call({
      method: 'GET',
      path: `/${seg(adId)}/insights`,
      query: {
        fields: [...insights.AD_INSIGHTS_FIELDS, ...insights.AD_CONVERSION_FIELDS].join(','),
        time_range: JSON.stringify({ since: range.since, until: range.until }),
      },
      token,
      schema: insights.adInsightsAnswer,
    });
    return insights.adInsightsOf(body.data);
  }

  /**
   * Marketing API Insights of one template's ad day by day over `range` (`time_increment=1`, a row per
   * day with sends, paged): the daily figures every window within the range is answered from.
   */
  async getAdInsightsDaily(adId: string, range: DayRange, token?: string): Promise<DailySeries> {
    const rows = await this.listAll({
      method: 'GET',
      path: `/${seg(adId)}/insights`,
      query: {
        fields: [...insights.AD_INSIGHTS_FIELDS, ...insights.AD_CONVERSION_FIELDS].join(','),
        time_range: JSON.stringify({ since: range.since, until: range.until }),
        time_increment: '1',
        limit: '100',
      },
      token,
      schema: schemas.pageOf(insights.adInsightsRow),
    });
    return insights.adInsightsDailyOf(rows, range);
  }

  /** `template_analytics` of MM API sends for at most 10 templates over `range`, kept day by day. */
  async getTemplateAnalyticsDaily(wabaId: string, range: DayRange, templateIds: string[], token?: string): Promise<Record<string, DailySeries>> {
    if (templateIds.length > MAX_ANALYTICS_TEMPLATES) {
      throw new RangeError(`template_analytics takes at most ${MAX_ANALYTICS_TEMPLATES} template ids a call`);
    }
    const start = Date.parse(`${range.since}T00:00:00Z`) / 1000;
    const end = Date.parse(`${range.until}T00:00:00Z`) / 1000 + 86_400;
    const entries = await this.listAll({
      method: 'GET',
      path: `/${seg(wabaId)}/template_analytics`,
      query: {
        start: String(start),
        end: String(end),
        granularity: 'DAILY',
        product_type: 'marketing_messages_lite_api',
        metric_types: 'SENT,DELIVERED,READ,CLICKED,COST',
        template_ids: JSON.stringify(templateIds),
      },
      token,
      schema: schemas.pageOf(insights.templateAnalyticsEntry),
    });
    return insights.templateAnalyticsDailyOf(entries, range);
  }

  /**
   * `template_analytics` of MM API sends (`product_type=marketing_messages_lite_api`) for at most 10
   * templates, daily points summed per template id. `start`/`end` are Unix seconds.
   */
  async getTemplateAnalytics(
    wabaId: string,
    window: { start: number; end: number; templateIds: string[] },
    token?: string,
  ): Promise<Record<string, TemplateAnalytics>> {
    if (window.templateIds.length > MAX_ANALYTICS_TEMPLATES) {
      throw new RangeError(`template_analytics takes at most ${MAX_ANALYTICS_TEMPLATES} template ids a call`);
    }
    const entries = await this.listAll({
      method: 'GET',
      path: `/${seg(wabaId)}/template_analytics`,
      query: {
        start: String(window.start),
        end: String(window.end),
        granularity: 'DAILY',
        product_type: 'marketing_messages_lite_api',
        metric_types: 'SENT,DELIVERED,READ,CLICKED,COST',
        template_ids: JSON.stringify(window.templateIds),
      },
      token,
      schema: schemas.pageOf(insights.templateAnalyticsEntry),
    });
    return insights.templateAnalyticsOf(entries);
  }

  /**
   * Sends one message from the phone number through `edge`. Never retried: a send is not idempotent,
   * so a failure goes back to the caller as the classified error.
   */
  async sendMessage(edge: SendEdge, phoneNumberId: string, message: Record<string, unknown>): Promise<SentMessage> {
    const body = await this.call({
      method: 'POST',
      path: `/${seg(phoneNumberId)}/${edge}`,
      json: message,
      schema: schemas.sentMessage,
    });
    return { messageId: body.messages[0].id, body };
  }

  /** Closes the client's own connection pool (not a dispatcher it was given). */
  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  /** Follows `paging.cursors.after` while `paging.next` is present. */
  private async listAll<T>(call: Call<z.ZodType<{ data: T[]; paging?: z.infer<typeof schemas.paging> }>>): Promise<T[]> {
    const rows: T[] = [];
    const seen = new Set<string>();
    let after: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const body = await this.call({ ...call, query: { ...call.query, after } });
      rows.push(...body.data);
      if (!body.paging?.next) return rows;
      after = body.paging.cursors?.after;
      if (!after || seen.has(after)) {
        throw new GraphResponseError(`${call.method} ${this.pathOf(call)}: paging.next without a new cursors.after`, {
          httpStatus: 200,
        });
      }
      seen.add(after);
    }
    throw new GraphResponseError(`${call.method} ${this.pathOf(call)}: more than ${MAX_PAGES} pages`, { httpStatus: 200 });
  }

  private async call<S extends z.ZodType>(call: Call<S>): Promise<z.output<S>> {
    const onError = this.options.onError;
    if (!onError) return this.send(call);
    try {
      return await this.send(call);
    } catch (err) {
      // A call held back by this client's own pacing never reached Meta: not Meta's error.
      if (err instanceof GraphApiError && !(err instanceof GraphThrottledError && err.httpStatus === 0)) {
        onError(endpointTemplate(call.path), errorCodeLabel(err));
      }
      throw err;
    }
  }

  private async send<S extends z.ZodType>(call: Call<S>): Promise<z.output<S>> {
    const what = `${call.method} ${this.pathOf(call)}`;
    const token = call.token === null ? undefined : call.token || this.options.accessToken;
    const secrets = [this.options.accessToken, this.options.appSecret, token, ...(call.secrets ?? [])];

    const url = new URL(`${this.options.baseUrl}${this.pathOf(call)}`);
    for (const [k, v] of Object.entries(call.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (call.json !== undefined) headers['content-type'] = 'application/json';

    // Whose allowance the call counts against is learnt from Meta's answers about this object.
    const subject = subjectOf(call.path);
    await this.awaitTurn(what, subject);
    let status = 0;
    let responseHeaders: Record<string, string | string[] | undefined> = {};
    let text = '';
    await inGraphCallSpan(call.method, url, this.pathOf(call), async (span) => {
      try {
        const res = await request(url, {
          method: call.method,
          headers,
          body: call.json === undefined ? undefined : JSON.stringify(call.json),
          dispatcher: this.dispatcher,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        status = res.statusCode;
        recordGraphStatus(span, status);
        responseHeaders = res.headers;
        this.options.usage?.observe(responseHeaders, subject);
        text = await readText(res.body, what);
      } catch (err) {
        if (err instanceof GraphApiError) throw err;
        throw networkError(what, err, secrets);
      }
    });

    const json = parseJson(text);
    if (status < 200 || status > 299 || hasErrorEnvelope(json)) {
      const err = classifyGraphError(status, json, responseHeaders, { request: what, secrets });
      if (err instanceof GraphThrottledError) this.options.usage?.throttled(subject, err.code, err.retryAfterMs);
      throw err;
    }
    const parsed = call.schema.safeParse(json);
    if (!parsed.success) {
      // Paths and zod's wording only: the values could be the very token we were sent.
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
      throw new GraphResponseError(redactSecrets(`${what}: unexpected answer: ${problems}`, secrets), {
        httpStatus: status,
      });
    }
    return parsed.data;
  }

  /**
   * Waits for this call's turn when Meta reports high usage (the app's, or the business `subject`
   * counts against); a long wait, or a business Meta asked to wait, comes back as throttling.
   */
  private async awaitTurn(what: string, subject: string | undefined): Promise<void> {
    const turn = this.options.usage?.reserve(MAX_PACING_WAIT_MS, subject);
    if (!turn) return;
    if ('retryAfterMs' in turn) {
      throw new GraphThrottledError(`${what} held back: Meta reports the app's or this business's Graph allowance used up`, { httpStatus: 0 }, turn.retryAfterMs);
    }
    if (turn.waitMs > 0) await new Promise((resolve) => setTimeout(resolve, turn.waitMs));
    // Ceiling: a few more waits, each at most one pace: the call before this one may have left late.
    for (let i = 0; i < 5; i++) {
      const more = this.options.usage!.depart(subject);
      if (more <= 0) return;
      await new Promise((resolve) => setTimeout(resolve, more));
    }
  }

  private pathOf(call: Pick<Call<z.ZodType>, 'path'>): string {
    return `/${this.options.version}${call.path}`;
  }
}

function isAlreadySent(err: unknown): boolean {
  if (!(err instanceof GraphRequestError)) return false;
  return err.subcode === INTENT_ALREADY_SENT_SUBCODE || /already/i.test(err.message);
}

/** The seed's filter: `marketing_messages_onboarding_status IN [...]`. */
const onboardingStatusFilter = (statuses: string[]) =>
  JSON.stringify([{ field: 'marketing_messages_onboarding_status', operator: 'IN', value: statuses }]);

/** The Graph object a call is about (a WABA, business or phone number id); none for /oauth, /debug_token. */
const subjectOf = (path: string) => /^\/(\d+)(?:\/|$)/.exec(path)?.[1];

/** Ids go into the path; encoding keeps a bad id from reaching another endpoint. */
const seg = (id: string) => encodeURIComponent(id);

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const hasErrorEnvelope = (json: unknown) =>
  typeof json === 'object' && json !== null && typeof (json as { error?: unknown }).error === 'object';

async function readText(body: AsyncIterable<Buffer> & { destroy(err?: Error): unknown }, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      body.destroy();
      throw new GraphResponseError(`${what}: answer larger than ${MAX_BODY_BYTES} bytes`, { httpStatus: 200 });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
