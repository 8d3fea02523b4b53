import type { FaultBook, FaultKind, FaultSpec, Fault, GraphEndpoint } from './faults';
import { graphId, signupCode, userAccessToken } from './ids';
import { metaErrors } from './meta-errors';
import {
  accountEvent,
  accountUpdateBody,
  adAccountLinked,
  metaJson,
  metaTime,
  termsSigned,
  type AccountEvent,
  type WabaRef,
} from './payloads';
import type { WebhookDelivery, WebhookSender } from './webhooks';
import { SandboxMessaging, type MessagingTiming, type SandboxTemplate } from './messaging';
import { SandboxInsights } from './insights';

/** What a repeated Intent API request answers; both mean "the request stands". */
export type RepeatAnswer = 'same_request_id' | 'already_sent';

export interface SandboxBusiness {
  id: string;
  name: string;
  /** The portfolio's `marketing_messages_onboarding_status` object. */
  onboarding: { status: 'NOT_STARTED' | 'REQUEST_SENT' | 'TERM_OF_SERVICE_SIGNED' | (string & {}); time?: string };
  intent: { requestId?: string; requests: number; repeatAnswer: RepeatAnswer; solutionIds: string[] };
}

export const PLATFORM_TYPES = ['CLOUD_API', 'ON_PREMISE', 'NOT_APPLICABLE'] as const;

export interface SandboxPhoneNumber {
  id: string;
  displayPhoneNumber: string;
  verifiedName: string;
  platformType: string;
  status: string;
  codeVerificationStatus: string;
}

export interface SandboxWaba {
  id: string;
  name: string;
  ownerBusinessId: string;
  /** The solution partner sharing the WABA: it lists it under `client_whatsapp_business_accounts`. */
  partnerBusinessId?: string;
  /** null: the field is absent from the answer (as on old API versions). */
  onboardingStatus: string | null;
  /** `marketing_messages_lite_api_status`; null: absent. */
  legacyStatus: string | null;
  /** What a restriction replaced, so a reinstatement can put it back. */
  statusBeforeRestriction?: string | null;
  phoneNumbers: SandboxPhoneNumber[];
  subscribedApps: string[];
  adAccountId: string;
  /** false: the sandbox never signs the terms by itself for this WABA (manual path). */
  autoSign: boolean;
  /** When the WABA became ONBOARDED (epoch ms): its templates' sync runs from then. */
  onboardedAt?: number;
  templates: SandboxTemplate[];
}

export interface GraphCall {
  seq: number;
  endpoint: GraphEndpoint | 'unknown';
  method: string;
  /** Path only: queries carry secrets. */
  path: string;
  wabaId?: string;
  businessId?: string;
  at: string;
  /** Set when the answer is sent. */
  status?: number;
  faults?: FaultKind[];
}

export type CallFilter = Partial<Pick<GraphCall, 'endpoint' | 'method' | 'wabaId' | 'businessId' | 'status'>>;

export interface NewBusiness {
  id?: string;
  name?: string;
  repeatAnswer?: RepeatAnswer;
  onboardingStatus?: string;
}

export interface NewPhoneNumber {
  id?: string;
  displayPhoneNumber?: string;
  platformType?: string;
  status?: string;
  codeVerificationStatus?: string;
}

export interface NewWaba {
  id?: string;
  name?: string;
  /** Created when unknown; a fresh business when omitted. */
  ownerBusinessId?: string;
  /** Created when unknown. */
  partnerBusinessId?: string;
  /** Default ELIGIBLE; null leaves the field out of answers. */
  onboardingStatus?: string | null;
  /** Default derived from onboardingStatus; null leaves the field out. */
  legacyStatus?: string | null;
  /** A count (all CLOUD_API) or explicit numbers. Default one CLOUD_API number. */
  phoneNumbers?: number | NewPhoneNumber[];
  /** Default true. */
  autoSign?: boolean;
}

export interface SignTermsOptions {
  /** Also send the legacy AD_ACCOUNT_LINKED webhook. */
  legacy?: boolean;
  /** Send only AD_ACCOUNT_LINKED. */
  onlyLegacy?: boolean;
  /** Where the legacy event puts the ad account: the seed's `ad_account_id` or Meta reference's `ad_account_linked`. */
  legacyField?: 'ad_account_id' | 'ad_account_linked';
  /** Deliver each body this many times (Meta repeats deliveries). Default 1. */
  duplicate?: number;
  /** Other WABAs signed at the same time and reported in the same POST. */
  batchWith?: string[];
}

interface WorldOptions {
  appId: string;
  accessToken: string;
  codeTtlMs: number;
  autoSignTermsAfterMs?: number;
  messaging: MessagingTiming;
  log: (msg: string) => void;
}

/** The statuses each path can turn into ONBOARDED; OBO-owned WABAs only through the Intent API. */
const SIGNABLE_BY_INTENT = ['ELIGIBLE', 'INELIGIBLE_ON_BEHALF_OF_WABA'];
const SIGNABLE_BY_SIGNUP = ['ELIGIBLE'];

/** Everything the service's Facebook Login for Business configuration asks for. */
export const ALL_SCOPES = ['whatsapp_business_management', 'whatsapp_business_messaging', 'ads_read'] as const;

/** What the stand-in popup does for the next signup: which WABA, and which permissions the customer grants. */
export interface PlannedSignup {
  wabaId: string;
  scopes?: string[];
}

/** Meta keeps the call log forever; the sandbox keeps the most recent ones. */
const MAX_CALLS = 50_000;

/**
 * The sandbox's whole world: businesses, WABAs, signup codes and tokens, injected faults, the call log
 * and webhook deliveries. Tests drive it directly; the control routes drive it over HTTP.
 */
/** The world as JSON (SandboxWorld.snapshot): no calls, faults or timers, which belong to one run. */
export interface WorldSnapshot {
  version: 1;
  businesses: SandboxBusiness[];
  wabas: SandboxWaba[];
  tokens: Array<[string, string]>;
  tokenScopes: Array<[string, string[]]>;
  systemTokenScopes: string[];
}

export class SandboxWorld {
  readonly businesses = new Map<string, SandboxBusiness>();
  readonly wabas = new Map<string, SandboxWaba>();
  readonly calls: GraphCall[] = [];
  private readonly codes = new Map<string, { wabaId: string; expiresAt: number; used: boolean; scopes: string[] }>();
  /** Tokens minted by code exchange, each good for its WABA. */
  private readonly tokens = new Map<string, string>();
  /** The permissions each minted token was granted (what `debug_token` reports). */
  private readonly tokenScopes = new Map<string, string[]>();
  /** What `debug_token` reports for the partner's system-user token. */
  systemTokenScopes: string[] = [...ALL_SCOPES];
  /** Embedded Signups the stand-in popup will play next, in order (else it creates a fresh WABA). */
  private readonly plannedSignups: PlannedSignup[] = [];
  /** Every `FB.login` the stand-in SDK received: what the signup page launched the popup with. */
  readonly signupLaunches: Array<Record<string, unknown>> = [];
  private readonly autoSignTimers = new Map<string, NodeJS.Timeout>();
  private callSeq = 0;
  /** Bumped whenever a WABA is added, removed or leaves its partner: the client lists below are rebuilt. */
  private wabasGeneration = 0;
  private clientLists = new Map<string, SandboxWaba[]>();
  private clientListsGeneration = -1;
  /** Templates and the two send edges (sandbox/messaging.ts). */
  readonly messaging: SandboxMessaging;
  /** What the usage headers report (percent of the allowance used); 1 % unless a test says otherwise. */
  readonly usage = new ReportedUsage();
  /** Insights and template analytics of the WABAs' templates (sandbox/insights.ts). */
  readonly insights = new SandboxInsights(this.wabas);

  constructor(
    private readonly options: WorldOptions,
    private readonly faults: FaultBook,
    private readonly webhooks: WebhookSender,
  ) {
    this.messaging = new SandboxMessaging(this.wabas, webhooks, options.messaging);
  }

  get deliveries(): readonly WebhookDelivery[] {
    return this.webhooks.deliveries;
  }

  get webhookUrl(): string | undefined {
    return this.webhooks.url;
  }

  setWebhookUrl(url: string | undefined): void {
    this.webhooks.url = url;
  }

  // ---- businesses and WABAs ----

  createBusiness(input: NewBusiness = {}): SandboxBusiness {
    const id = input.id ?? this.newId();
    if (this.businesses.has(id) || this.wabas.has(id)) throw new SandboxConflict(`id ${id} is taken`);
    const business: SandboxBusiness = {
      id,
      name: input.name ?? `Business ${id.slice(-4)}`,
      onboarding: { status: input.onboardingStatus ?? 'NOT_STARTED' },
      intent: { requests: 0, repeatAnswer: input.repeatAnswer ?? 'same_request_id', solutionIds: [] },
    };
    this.businesses.set(id, business);
    return business;
  }

  createWaba(input: NewWaba = {}): SandboxWaba {
    const id = input.id ?? this.newId();
    if (this.businesses.has(id) || this.wabas.has(id)) throw new SandboxConflict(`id ${id} is taken`);
    const owner = this.ensureBusiness(input.ownerBusinessId);
    const partner = input.partnerBusinessId ? this.ensureBusiness(input.partnerBusinessId) : undefined;
    const onboardingStatus = input.onboardingStatus === undefined ? 'ELIGIBLE' : input.onboardingStatus;
    const numbers: NewPhoneNumber[] =
      typeof input.phoneNumbers === 'number'
        ? Array.from({ length: input.phoneNumbers }, () => ({}))
        : (input.phoneNumbers ?? [{}]);
    const waba: SandboxWaba = {
      id,
      name: input.name ?? `WABA ${id.slice(-4)}`,
      ownerBusinessId: owner.id,
      partnerBusinessId: partner?.id,
      onboardingStatus,
      legacyStatus: input.legacyStatus === undefined ? legacyStatusOf(onboardingStatus) : input.legacyStatus,
      phoneNumbers: numbers.map((n) => this.phoneNumber(n, owner.name)),
      subscribedApps: [],
      adAccountId: this.newId(),
      autoSign: input.autoSign ?? true,
      ...(onboardingStatus === 'ONBOARDED' ? { onboardedAt: Date.now() } : {}),
      templates: [],
    };
    this.wabas.set(id, waba);
    this.wabasGeneration++;
    return waba;
  }

  /**
   * The WABAs a solution partner shares (`client_whatsapp_business_accounts`), in creation order. Kept
   * per partner until a WABA comes or goes, so paging through 200k clients does not scan them all per page.
   */
  clientWabasOf(partnerId: string): readonly SandboxWaba[] {
    if (this.clientListsGeneration !== this.wabasGeneration) {
      this.clientLists = new Map();
      this.clientListsGeneration = this.wabasGeneration;
    }
    let list = this.clientLists.get(partnerId);
    if (!list) {
      list = [...this.wabas.values()].filter((w) => w.partnerBusinessId === partnerId);
      this.clientLists.set(partnerId, list);
    }
    return list;
  }

  business(id: string): SandboxBusiness {
    const b = this.businesses.get(id);
    if (!b) throw new SandboxNotFound(`no business ${id}`);
    return b;
  }

  waba(id: string): SandboxWaba {
    const w = this.wabas.get(id);
    if (!w) throw new SandboxNotFound(`no WABA ${id}`);
    return w;
  }

  /** Sets the WABA's status; the legacy field follows unless given. */
  setStatus(wabaId: string, status: string | null, opts: { legacyStatus?: string | null } = {}): SandboxWaba {
    const waba = this.waba(wabaId);
    waba.onboardingStatus = status;
    waba.legacyStatus = opts.legacyStatus !== undefined ? opts.legacyStatus : status === null ? waba.legacyStatus : legacyStatusOf(status);
    if (status === 'ONBOARDED') {
      this.markPortfolioSigned(waba);
      waba.onboardedAt ??= Date.now();
    }
    return waba;
  }

  setRepeatAnswer(businessId: string, answer: RepeatAnswer): void {
    this.business(businessId).intent.repeatAnswer = answer;
  }

  /** Intent API requests the business received (first ones and repeats). */
  intentRequestCount(businessId: string): number {
    return this.businesses.get(businessId)?.intent.requests ?? 0;
  }

  // ---- Embedded Signup ----

  /** A fresh OAuth code for the WABA, good once and for `codeTtlMs`; its token gets `scopes` (default all). */
  issueSignupCode(wabaId: string, opts: { scopes?: string[] } = {}): string {
    this.waba(wabaId);
    const code = signupCode();
    this.codes.set(code, { wabaId, expiresAt: Date.now() + this.options.codeTtlMs, used: false, scopes: opts.scopes ?? [...ALL_SCOPES] });
    return code;
  }

  /** The stand-in popup plays this signup next (tests pick the WABA and the permissions granted). */
  planSignup(plan: PlannedSignup): void {
    this.waba(plan.wabaId);
    this.plannedSignups.push(plan);
  }

  /**
   * What the customer does in the stand-in popup when they finish: the next planned signup, or a fresh
   * ELIGIBLE WABA with one Cloud API number. Answers what Meta's popup reports, plus the code.
   */
  playSignup(): { wabaId: string; phoneNumberId: string; businessId: string; code: string } {
    const plan = this.plannedSignups.shift();
    const waba = plan ? this.waba(plan.wabaId) : this.createWaba({ name: 'Signed-up WABA' });
    const code = this.issueSignupCode(waba.id, { scopes: plan?.scopes });
    return { wabaId: waba.id, phoneNumberId: waba.phoneNumbers[0]?.id ?? '', businessId: waba.ownerBusinessId, code };
  }

  /**
   * `GET /debug_token`: the token's validity and permissions, as Meta reports them. A minted token's
   * WhatsApp permissions target its own WABA only.
   */
  debugToken(token: string): Record<string, unknown> {
    const base = { app_id: this.options.appId, application: 'Sandbox partner app' };
    if (token === this.options.accessToken) {
      return { ...base, type: 'SYSTEM_USER', is_valid: true, expires_at: 0, scopes: this.systemTokenScopes, granular_scopes: [] };
    }
    const wabaId = this.tokens.get(token);
    if (wabaId === undefined) {
      return { ...base, is_valid: false, scopes: [], error: { code: 190, message: 'The access token could not be decrypted', subcode: 463 } };
    }
    const scopes = this.tokenScopes.get(token) ?? [];
    return {
      ...base,
      type: 'SYSTEM_USER',
      is_valid: true,
      expires_at: 0,
      scopes,
      granular_scopes: scopes.map((scope) => (scope.startsWith('whatsapp_') ? { scope, target_ids: [wabaId] } : { scope })),
    };
  }

  codeExpiry(code: string): number | undefined {
    return this.codes.get(code)?.expiresAt;
  }

  /** Tokens minted by code exchange for the WABA and not revoked: lets tests look for leaks. */
  tokensOf(wabaId: string): string[] {
    return [...this.tokens].filter(([, id]) => id === wabaId).map(([token]) => token);
  }

  /** The WABA a code was issued for, so calls exchanging it can be logged and faulted per WABA. */
  wabaOfCode(code: string | undefined): string | undefined {
    return code === undefined ? undefined : this.codes.get(code)?.wabaId;
  }

  /** The exchange Meta does at `/oauth/access_token`. */
  redeemSignupCode(code: string): { token: string; wabaId: string } {
    const entry = this.codes.get(code);
    if (!entry) throw metaErrors.codeInvalid();
    if (entry.used) throw metaErrors.codeUsed();
    if (Date.now() > entry.expiresAt) throw metaErrors.codeExpired();
    entry.used = true;
    const token = userAccessToken();
    this.tokens.set(token, entry.wabaId);
    this.tokenScopes.set(token, entry.scopes);
    this.scheduleAutoSign(entry.wabaId, SIGNABLE_BY_SIGNUP);
    return { token, wabaId: entry.wabaId };
  }

  /**
   * Who may make this call: the system token everywhere, a minted token only for its own WABA. Meta
   * answers "does not exist or missing permissions" alike, so a wrong WABA looks unknown.
   */
  authorize(token: string | undefined, target: { method: string; wabaId?: string; id: string }): void {
    if (!token) throw metaErrors.missingToken();
    if (token === this.options.accessToken) return;
    const tokenWaba = this.tokens.get(token);
    if (tokenWaba === undefined) throw metaErrors.invalidToken();
    if (target.wabaId !== tokenWaba) throw metaErrors.unsupported(target.method, target.id);
  }

  /** After `POST /<WABA>/subscribed_apps`. */
  subscribeApp(wabaId: string): void {
    const waba = this.waba(wabaId);
    if (!waba.subscribedApps.includes(this.options.appId)) waba.subscribedApps.push(this.options.appId);
    this.scheduleAutoSign(wabaId, SIGNABLE_BY_SIGNUP);
  }

  // ---- Intent API ----

  /** `POST /<BUSINESS>/onboard_partners_to_mm_lite`: the first one creates the request; repeats answer per `repeatAnswer`. */
  requestIntent(businessId: string, solutionId?: string): { request_id: string } {
    const business = this.business(businessId);
    business.intent.requests++;
    if (solutionId) business.intent.solutionIds.push(solutionId);
    // The request covers every WABA of the business, including ones that became eligible since.
    for (const waba of this.wabas.values()) {
      if (waba.ownerBusinessId === businessId) this.scheduleAutoSign(waba.id, SIGNABLE_BY_INTENT);
    }
    if (business.intent.requestId) {
      if (business.intent.repeatAnswer === 'already_sent') throw metaErrors.intentAlreadySent();
      return { request_id: business.intent.requestId };
    }
    business.intent.requestId = this.newId();
    if (business.onboarding.status === 'NOT_STARTED') business.onboarding = { status: 'REQUEST_SENT', time: metaTime(new Date()) };
    return { request_id: business.intent.requestId };
  }

  // ---- webhooks ----

  /**
   * The business signs the terms for the WABA (and `batchWith`): ONBOARDED, portfolio
   * TERM_OF_SERVICE_SIGNED, then `account_update` webhooks to the webhook URL.
   */
  async signTerms(wabaId: string, opts: SignTermsOptions = {}): Promise<WebhookDelivery[]> {
    const wabas = [wabaId, ...(opts.batchWith ?? [])].map((id) => this.waba(id));
    for (const waba of wabas) {
      this.cancelAutoSign(waba.id);
      if (waba.onboardingStatus !== null) waba.onboardingStatus = 'ONBOARDED';
      if (waba.legacyStatus !== null || waba.onboardingStatus === null) waba.legacyStatus = 'ONBOARDED';
      waba.onboardedAt ??= Date.now();
      this.markPortfolioSigned(waba);
    }
    const refs = wabas.map((w) => this.refOf(w));
    const bodies: string[] = [];
    if (!opts.onlyLegacy) bodies.push(metaJson(accountUpdateBody(refs.map(termsSigned))));
    if (opts.legacy || opts.onlyLegacy) {
      bodies.push(metaJson(accountUpdateBody(refs.map((r) => adAccountLinked(r, opts.legacyField)))));
    }
    this.options.log(`terms signed for ${wabas.map((w) => w.id).join(', ')}`);
    const deliveries: WebhookDelivery[] = [];
    for (const body of bodies) {
      for (let i = 0; i < Math.max(1, opts.duplicate ?? 1); i++) deliveries.push(await this.webhooks.send(body));
    }
    return deliveries;
  }

  /**
   * An `account_update` event other than the terms, with its effect on the world: a restriction or a
   * ban makes the WABA INELIGIBLE_INACTIVE_OR_RESTRICTED (a REINSTATE ban state restores it), a
   * partner removal or offboarding unshares it, a deletion removes it.
   */
  async emitAccountEvent(wabaId: string, event: AccountEvent, extra: Record<string, unknown> = {}): Promise<WebhookDelivery> {
    const waba = this.waba(wabaId);
    const change = accountEvent(this.refOf(waba), event, extra);
    const banState = (change.value.ban_info as { waba_ban_state?: string } | undefined)?.waba_ban_state;
    if (event === 'ACCOUNT_RESTRICTION' || (event === 'DISABLED_UPDATE' && banState === 'DISABLE')) {
      if (waba.onboardingStatus !== 'INELIGIBLE_INACTIVE_OR_RESTRICTED') waba.statusBeforeRestriction = waba.onboardingStatus;
      this.setStatus(wabaId, 'INELIGIBLE_INACTIVE_OR_RESTRICTED');
    } else if (event === 'DISABLED_UPDATE' && banState === 'REINSTATE' && waba.statusBeforeRestriction !== undefined) {
      this.setStatus(wabaId, waba.statusBeforeRestriction);
      waba.statusBeforeRestriction = undefined;
    } else if (event === 'PARTNER_REMOVED' || event === 'ACCOUNT_OFFBOARDED') {
      waba.partnerBusinessId = undefined;
      this.wabasGeneration++;
      waba.subscribedApps = [];
      this.revokeTokens(wabaId);
    } else if (event === 'ACCOUNT_DELETED') {
      this.cancelAutoSign(wabaId);
      this.revokeTokens(wabaId);
      this.wabas.delete(wabaId);
      this.wabasGeneration++;
    }
    return this.webhooks.send(metaJson(accountUpdateBody([change])));
  }

  /** Delivers any body, signed; a string is sent byte for byte. */
  deliverRaw(body: string | object): Promise<WebhookDelivery> {
    return this.webhooks.send(typeof body === 'string' ? body : metaJson(body));
  }

  // ---- faults and the call log ----

  injectFault(spec: FaultSpec): Fault {
    return this.faults.add(spec);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  listFaults(): Fault[] {
    return this.faults.list();
  }

  recordCall(call: Omit<GraphCall, 'seq' | 'at'>): GraphCall {
    const record: GraphCall = { ...call, seq: ++this.callSeq, at: new Date().toISOString() };
    this.calls.push(record);
    if (this.calls.length > MAX_CALLS) this.calls.splice(0, this.calls.length - MAX_CALLS);
    return record;
  }

  countCalls(filter: CallFilter = {}): number {
    return this.findCalls(filter).length;
  }

  findCalls(filter: CallFilter = {}): GraphCall[] {
    const entries = Object.entries(filter).filter(([, v]) => v !== undefined) as [keyof CallFilter, unknown][];
    return this.calls.filter((c) => entries.every(([k, v]) => c[k] === v));
  }

  /** The business whose allowance a call counts against, for the usage header. */
  usageBusinessOf(target: { wabaId?: string; businessId?: string }): string {
    if (target.businessId) return target.businessId;
    return (target.wabaId && this.wabas.get(target.wabaId)?.ownerBusinessId) || target.wabaId || '0';
  }

  /** Everything back to empty, webhook URL kept. */
  reset(): void {
    this.stopTimers();
    this.usage.set({ appPercent: 1, businessPercent: 1 });
    this.businesses.clear();
    this.wabas.clear();
    this.wabasGeneration++;
    this.codes.clear();
    this.tokens.clear();
    this.tokenScopes.clear();
    this.plannedSignups.length = 0;
    this.signupLaunches.length = 0;
    this.systemTokenScopes = [...ALL_SCOPES];
    this.faults.clear();
    this.calls.length = 0;
    this.webhooks.forget();
    this.messaging.forget();
    this.insights.deprecated = false;
  }

  stopTimers(): void {
    for (const timer of this.autoSignTimers.values()) clearTimeout(timer);
    this.autoSignTimers.clear();
  }

  /**
   * A small portfolio for `npm start`: a solution partner with two client businesses whose WABAs cover
   * the interesting statuses. Fixed ids, so onboardings kept across an `npm start` restart still find
   * their WABAs; seeding a world that already has them is a 409 (SandboxConflict).
   */
  seedDemo(): { partnerBusinessId: string; businessIds: string[]; wabaIds: Record<string, string> } {
    const partner = this.createBusiness({ id: '100000000000001', name: 'Sandbox Solution Partner' });
    const acme = this.createBusiness({ id: '100000000000002', name: 'Acme Retail' });
    const globex = this.createBusiness({ id: '100000000000003', name: 'Globex Travel', repeatAnswer: 'already_sent' });
    let next = 200000000000001;
    // Fixed phone number ids too (the WABA's id + 100000000000000), so documented sends run as printed.
    const waba = (name: string, owner: string, onboardingStatus: string, numbers: NewPhoneNumber[] = [{}]) => {
      const id = String(next++);
      const phoneNumbers = numbers.map((n) => ({ id: String(Number(id) + 100000000000000), ...n }));
      return this.createWaba({ id, name, ownerBusinessId: owner, partnerBusinessId: partner.id, onboardingStatus, phoneNumbers }).id;
    };
    const wabaIds = {
      acmeEligible: waba('Acme Retail US', acme.id, 'ELIGIBLE'),
      acmeEligible2: waba('Acme Retail EU', acme.id, 'ELIGIBLE'),
      acmeOnBehalfOf: waba('Acme Retail (OBO)', acme.id, 'INELIGIBLE_ON_BEHALF_OF_WABA'),
      acmeOnboarded: waba('Acme Outlet', acme.id, 'ONBOARDED'),
      globexEligible: waba('Globex Bookings', globex.id, 'ELIGIBLE'),
      globexPendingPayment: waba('Globex Support', globex.id, 'PENDING_VALID_PAYMENT_METHOD'),
      globexBusinessApp: waba('Globex Front Desk', globex.id, 'INELIGIBLE_USING_WHATSAPP_BUSINESS_APP', [
        { platformType: 'NOT_APPLICABLE' },
      ]),
    };
    // One approved marketing template on every demo WABA (no webhook: nobody is onboarding them yet).
    for (const id of Object.values(wabaIds)) {
      void this.messaging.createTemplate(id, { id: String(Number(id) + 500000000000000), name: 'spring_sale', language: 'en_US', notify: false });
    }
    return { partnerBusinessId: partner.id, businessIds: [acme.id, globex.id], wabaIds };
  }

  // ---- kept across restarts (sandbox/persistence.ts) ----

  /** What a restarted sandbox needs to answer as before: the accounts, their templates, minted tokens. */
  snapshot(): WorldSnapshot {
    return {
      version: 1,
      businesses: [...this.businesses.values()],
      wabas: [...this.wabas.values()],
      tokens: [...this.tokens],
      tokenScopes: [...this.tokenScopes],
      systemTokenScopes: this.systemTokenScopes,
    };
  }

  /**
   * Takes a snapshot back, and re-arms the automatic signing of every WABA whose business asked for
   * the terms (an Intent request) and has not signed yet, as a sandbox that never stopped would.
   */
  restore(snapshot: WorldSnapshot): void {
    this.reset();
    for (const b of snapshot.businesses) this.businesses.set(b.id, b);
    for (const w of snapshot.wabas) this.wabas.set(w.id, { ...w, templates: w.templates ?? [] });
    this.wabasGeneration++;
    for (const [token, wabaId] of snapshot.tokens) this.tokens.set(token, wabaId);
    for (const [token, scopes] of snapshot.tokenScopes) this.tokenScopes.set(token, scopes);
    this.systemTokenScopes = snapshot.systemTokenScopes;
    for (const waba of this.wabas.values()) {
      if (this.businesses.get(waba.ownerBusinessId)?.intent.requestId) this.scheduleAutoSign(waba.id, SIGNABLE_BY_INTENT);
    }
  }

  // ---- internals ----

  private newId(): string {
    return graphId((id) => this.businesses.has(id) || this.wabas.has(id));
  }

  private ensureBusiness(id: string | undefined): SandboxBusiness {
    return (id && this.businesses.get(id)) || this.createBusiness({ id });
  }

  private phoneNumber(n: NewPhoneNumber, verifiedName: string): SandboxPhoneNumber {
    const digits = String(Math.floor(Math.random() * 10_000)).padStart(4, '0');
    return {
      id: n.id ?? this.newId(),
      displayPhoneNumber: n.displayPhoneNumber ?? `+1 555-01${digits.slice(0, 1)}-${digits}`,
      verifiedName,
      platformType: n.platformType ?? 'CLOUD_API',
      status: n.status ?? 'CONNECTED',
      codeVerificationStatus: n.codeVerificationStatus ?? 'VERIFIED',
    };
  }

  private refOf(waba: SandboxWaba): WabaRef {
    return {
      wabaId: waba.id,
      ownerBusinessId: waba.ownerBusinessId,
      partnerBusinessId: waba.partnerBusinessId ?? waba.ownerBusinessId,
      adAccountId: waba.adAccountId,
    };
  }

  private markPortfolioSigned(waba: SandboxWaba): void {
    const owner = this.businesses.get(waba.ownerBusinessId);
    if (owner) owner.onboarding = { status: 'TERM_OF_SERVICE_SIGNED', time: metaTime(new Date()) };
  }

  private revokeTokens(wabaId: string): void {
    for (const [token, id] of this.tokens) {
      if (id === wabaId) {
        this.tokens.delete(token);
        this.tokenScopes.delete(token);
      }
    }
  }

  /** Auto mode: the business "signs" a while after the request, if the WABA can still be signed that way. */
  private scheduleAutoSign(wabaId: string, signable: string[]): void {
    const after = this.options.autoSignTermsAfterMs;
    const waba = this.wabas.get(wabaId);
    if (after === undefined || !waba?.autoSign || this.autoSignTimers.has(wabaId)) return;
    if (!signable.includes(waba.onboardingStatus ?? waba.legacyStatus ?? '')) return;
    const timer = setTimeout(() => {
      this.autoSignTimers.delete(wabaId);
      const now = this.wabas.get(wabaId);
      if (!now || !signable.includes(now.onboardingStatus ?? now.legacyStatus ?? '')) return;
      this.signTerms(wabaId).catch((err) => this.options.log(`auto-sign of ${wabaId} failed: ${(err as Error).message}`));
    }, after);
    timer.unref();
    this.autoSignTimers.set(wabaId, timer);
  }

  private cancelAutoSign(wabaId: string): void {
    clearTimeout(this.autoSignTimers.get(wabaId));
    this.autoSignTimers.delete(wabaId);
  }
}

/** `marketing_messages_lite_api_status` knows fewer values: INELIGIBLE|ELIGIBLE|ONBOARDED|UNKNOWN. */
export function legacyStatusOf(status: string | null): string | null {
  if (status === null) return null;
  if (status === 'ELIGIBLE' || status === 'ONBOARDED') return status;
  if (status.startsWith('INELIGIBLE')) return 'INELIGIBLE';
  return 'UNKNOWN';
}

/** The percentages the sandbox puts in `X-App-Usage` and `X-Business-Use-Case-Usage`. */
export class ReportedUsage {
  appPercent = 1;
  private defaultBusinessPercent = 1;
  private readonly perBusiness = new Map<string, number>();

  /** `businessPercent` for every business, or only for `businessId`. */
  set(change: { appPercent?: number; businessPercent?: number; businessId?: string }): void {
    if (change.appPercent !== undefined) this.appPercent = change.appPercent;
    if (change.businessPercent === undefined) return;
    if (change.businessId) this.perBusiness.set(change.businessId, change.businessPercent);
    else {
      this.defaultBusinessPercent = change.businessPercent;
      this.perBusiness.clear();
    }
  }

  businessPercent(businessId: string): number {
    return this.perBusiness.get(businessId) ?? this.defaultBusinessPercent;
  }
}

export class SandboxNotFound extends Error {}
export class SandboxConflict extends Error {}

