import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import type { CallTarget, FaultBook } from './faults';
import { fbtraceId } from './ids';
import { appUsage, businessUseCaseUsage, MetaError, metaErrors } from './meta-errors';
import type { SandboxBusiness, SandboxPhoneNumber, SandboxWaba, SandboxWorld } from './state';
import type { SandboxTemplate } from './messaging';

/** Any version Graph would accept: v19.0, v24.0, … */
const VERSION = /^v\d+\.\d+$/;
const DEFAULT_PAGE_SIZE = 25;
const MAX_PAGE_SIZE = 100;

interface GraphRoutesOptions {
  appId: string;
  appSecret: string;
  accessToken: string;
  log: (msg: string) => void;
}

interface Target extends CallTarget {
  /** The object id in the path (or "oauth"). */
  id: string;
}

/**
 * The Graph endpoints the service calls, answering like Meta: same paths under any version, same
 * bodies, same errors, usage headers, paging. Each call is logged and may run into an injected fault
 * before anything else happens.
 */
export function graphRoutes(world: SandboxWorld, faults: FaultBook, options: GraphRoutesOptions) {
  const router = express.Router();
  const delays = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

  router.use(express.json(), express.urlencoded({ extended: false }));

  const route = (
    method: 'get' | 'post',
    path: string,
    targetOf: (req: Request) => Target,
    handle: (req: Request, target: Target) => unknown,
  ) =>
    router[method](path, async (req: Request, res: Response) => {
      const version = String(req.params.version);
      if (!VERSION.test(version)) return sendError(res, metaErrors.unknownPath(req.path));
      const target = targetOf(req);
      const call = world.recordCall({
        endpoint: target.endpoint,
        method: req.method,
        path: req.path,
        wabaId: target.wabaId,
        businessId: target.businessId,
      });
      try {
        if (target.endpoint !== 'oauth') {
          const business = world.usageBusinessOf(target);
          res.setHeader('x-business-use-case-usage', businessUseCaseUsage(business, { percent: world.usage.businessPercent(business) }));
          res.setHeader('x-app-usage', appUsage(world.usage.appPercent));
        }
        const outcome = faults.take(target, (t) => world.usageBusinessOf(t));
        if (outcome.kinds.length) call.faults = outcome.kinds;
        if (outcome.latencyMs) await delay(outcome.latencyMs);
        if (outcome.error) throw outcome.error;
        if (outcome.slippedCursor) res.locals.slippedCursor = true;
        if (target.endpoint !== 'oauth' && target.endpoint !== 'debug_token') world.authorize(tokenOf(req), { method: req.method, wabaId: target.wabaId, id: target.id });
        const body = await handle(req, target);
        res.setHeader('x-fb-trace-id', fbtraceId());
        res.status(200).json(body);
      } catch (err) {
        if (!(err instanceof MetaError)) options.log(`sandbox bug on ${req.method} ${req.path}: ${(err as Error).stack}`);
        sendError(res, err instanceof MetaError ? err : metaErrors.transient());
      } finally {
        call.status = res.statusCode;
      }
    });

  const delay = (ms: number) =>
    new Promise<void>((resolve) => {
      const d = {
        resolve,
        timer: setTimeout(() => {
          delays.delete(d);
          resolve();
        }, ms),
      };
      delays.add(d);
    });

  // OAuth code exchange (Embedded Signup). Credentials travel in the query, as with Meta.
  route(
    'get',
    '/:version/oauth/access_token',
    (req) => ({ endpoint: 'oauth', id: 'oauth', wabaId: world.wabaOfCode(param(req, 'code')) }),
    (req) => {
      const q = req.query as Record<string, unknown>;
      if (q.client_id !== options.appId) throw metaErrors.invalidClientId();
      if (q.client_secret !== options.appSecret) throw metaErrors.invalidClientSecret();
      if (typeof q.code !== 'string' || !q.code) throw metaErrors.invalidParameter('Missing authorization code');
      const { token } = world.redeemSignupCode(q.code);
      return { access_token: token, token_type: 'bearer' };
    },
  );

  // Token inspection: asked with the app token (app_id|app_secret) or the system-user token.
  route(
    'get',
    '/:version/debug_token',
    () => ({ endpoint: 'debug_token', id: 'debug_token' }),
    (req) => {
      const asker = tokenOf(req);
      if (!asker) throw metaErrors.missingToken();
      if (asker !== `${options.appId}|${options.appSecret}` && asker !== options.accessToken) throw metaErrors.invalidToken();
      const input = param(req, 'input_token');
      if (!input) throw metaErrors.invalidParameter('The parameter input_token is required');
      return { data: world.debugToken(input) };
    },
  );

  route(
    'post',
    '/:version/:id/onboard_partners_to_mm_lite',
    (req) => ({ endpoint: 'intent', businessId: idOf(req), id: idOf(req) }),
    (req, t) => {
      if (!world.businesses.has(t.id)) throw metaErrors.unsupported('post', t.id);
      const solutionId = param(req, 'solution_id');
      return world.requestIntent(t.id, solutionId);
    },
  );

  route(
    'get',
    '/:version/:id/phone_numbers',
    (req) => ({ endpoint: 'phone_numbers', wabaId: idOf(req), id: idOf(req) }),
    (req, t) => {
      const waba = existingWaba(t.id, 'get');
      return page(req, waba.phoneNumbers, (n) => pick(phoneNumberFields(n), fieldsOf(req, PHONE_DEFAULT_FIELDS), 'WhatsAppBusinessPhoneNumber'));
    },
  );

  route(
    'post',
    '/:version/:id/subscribed_apps',
    (req) => ({ endpoint: 'subscribed_apps', wabaId: idOf(req), id: idOf(req) }),
    (_req, t) => {
      existingWaba(t.id, 'post');
      world.subscribeApp(t.id);
      return { success: true };
    },
  );

  route(
    'get',
    '/:version/:id/subscribed_apps',
    (req) => ({ endpoint: 'subscribed_apps', wabaId: idOf(req), id: idOf(req) }),
    (_req, t) => ({
      data: existingWaba(t.id, 'get').subscribedApps.map((appId) => ({
        whatsapp_business_api_data: { id: appId, name: 'Sandbox partner app', link: `https://www.facebook.com/games/?app_id=${appId}` },
      })),
    }),
  );

  route(
    'get',
    '/:version/:id/client_whatsapp_business_accounts',
    (req) => ({ endpoint: 'client_wabas', businessId: idOf(req), id: idOf(req) }),
    (req, t) => {
      if (!world.businesses.has(t.id)) throw metaErrors.unsupported('get', t.id);
      const keep = filterOf(req);
      const fields = fieldsOf(req, ['id', 'name']);
      const phoneFields = nestedFieldsOf(req, 'phone_numbers', PHONE_DEFAULT_FIELDS);
      const clients = world.clientWabasOf(t.id);
      // Meta filters within a page after cutting it, so filtered pages can be short or empty and still have `next`.
      return page(
        req,
        clients,
        (w) => {
          const row = pick({ ...wabaFields(w, world), phone_numbers: undefined }, fields, 'WhatsAppBusinessAccount');
          // Field expansion: the edge's first page, nested, with a `next` when there are more.
          if (phoneFields) row.phone_numbers = nestedPage(req, `${w.id}/phone_numbers`, w.phoneNumbers, (n) => pick(phoneNumberFields(n), phoneFields, 'WhatsAppBusinessPhoneNumber'));
          return row;
        },
        keep,
      );
    },
  );

  route(
    'get',
    '/:version/:id/message_templates',
    (req) => ({ endpoint: 'message_templates', wabaId: idOf(req), id: idOf(req) }),
    (req, t) => {
      existingWaba(t.id, 'get');
      const waba = existingWaba(t.id, 'get');
      const templates = world.messaging.listTemplates(t.id, { category: param(req, 'category'), status: param(req, 'status'), name: param(req, 'name') });
      const ads = (tpl: SandboxTemplate) => ({ ad_id: world.insights.adIdOf(waba, tpl), ad_account_id: world.insights.adAccountIdOf(waba) });
      return page(req, templates, (tpl) => pick({ ...templateFields(tpl), ...ads(tpl) }, fieldsOf(req, ['id', 'name', 'language', 'status', 'category']), 'WhatsAppMessageTemplate'));
    },
  );

  // MM API performance (sandbox/insights.ts): Insights on a template's ad, and the WABA's template analytics.
  route(
    'get',
    '/:version/:id/insights',
    (req) => ({ endpoint: 'ad_insights', wabaId: world.insights.ownerOfAd(idOf(req))?.waba.id, id: idOf(req) }),
    (req, t) => {
      const token = tokenOf(req) ?? '';
      const scopes = (world.debugToken(token).scopes as string[] | undefined) ?? [];
      const { data } = world.insights.adInsights(t.id, { fields: param(req, 'fields'), time_range: param(req, 'time_range'), time_increment: param(req, 'time_increment') }, scopes);
      return page(req, data, (row) => row);
    },
  );
  route(
    'get',
    '/:version/:id/template_analytics',
    (req) => ({ endpoint: 'template_analytics', wabaId: idOf(req), id: idOf(req) }),
    (req, t) =>
      world.insights.templateAnalytics(
        t.id,
        Object.fromEntries(['start', 'end', 'granularity', 'product_type', 'metric_types', 'template_ids'].map((k) => [k, param(req, k)])),
      ),
  );

  // The two send edges (sandbox/messaging.ts): Cloud API and MM API.
  for (const edge of ['messages', 'marketing_messages'] as const) {
    route(
      'post',
      `/:version/:id/${edge}`,
      (req) => ({ endpoint: edge, wabaId: world.messaging.wabaOfPhoneNumber(idOf(req))?.id, id: idOf(req) }),
      (req, t) => world.messaging.send(edge, t.id, (req.body ?? {}) as Record<string, unknown>),
    );
  }

  // A node: a WABA, a business portfolio, or nothing we know (reported as a WABA lookup).
  route(
    'get',
    '/:version/:id',
    (req) => {
      const id = idOf(req);
      if (world.businesses.has(id)) return { endpoint: 'business_status', businessId: id, id };
      // The owner read before a start is an endpoint of its own, so faults meant for the onboarding's status reads stay theirs.
      return { endpoint: param(req, 'fields') === 'owner_business_info' ? 'waba_owner' : 'waba_status', wabaId: id, id };
    },
    (req, t) => {
      const business = world.businesses.get(t.id);
      if (business) return pick(businessFields(business), fieldsOf(req, ['id', 'name']), 'Business');
      return pick(wabaFields(existingWaba(t.id, 'get'), world), fieldsOf(req, ['id', 'name']), 'WhatsAppBusinessAccount');
    },
  );

  // Anything else under a version: Meta's answer to a path it does not serve.
  router.use((req: Request, res: Response, next: () => void) => {
    const [version, id] = req.path.split('/').filter(Boolean);
    if (!version || !VERSION.test(version)) return next();
    sendError(res, id ? metaErrors.unsupported(req.method, id) : metaErrors.unknownPath(req.path));
  });

  // Malformed JSON or form bodies.
  router.use((err: Error, _req: Request, res: Response, next: (err: Error) => void) => {
    if (res.headersSent) return next(err);
    sendError(res, metaErrors.invalidParameter(`Invalid request body: ${err.message}`));
  });

  function existingWaba(id: string, method: string): SandboxWaba {
    const waba = world.wabas.get(id);
    if (!waba) throw metaErrors.unsupported(method, id);
    return waba;
  }

  return {
    router,
    /** Releases calls held by latency faults. */
    close() {
      for (const d of delays) {
        clearTimeout(d.timer);
        d.resolve();
      }
      delays.clear();
    },
  };
}

function sendError(res: Response, err: MetaError): void {
  if (res.headersSent) return;
  for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
  if (err.body.type === 'OAuthException') {
    res.setHeader('www-authenticate', `OAuth "Facebook Platform" "${err.body.code === 190 ? 'invalid_token' : 'invalid_request'}"`);
  }
  res.status(err.httpStatus).json(err.toJSON());
}

const idOf = (req: Request) => String(req.params.id);

/** `Authorization: Bearer …` (or `OAuth …`), else `access_token` in the query or body. */
function tokenOf(req: Request): string | undefined {
  const header = req.get('authorization');
  const match = header?.match(/^(?:Bearer|OAuth)\s+(.+)$/i);
  return match?.[1] ?? param(req, 'access_token');
}

function param(req: Request, name: string): string | undefined {
  const fromQuery = (req.query as Record<string, unknown>)[name];
  const fromBody = (req.body as Record<string, unknown> | undefined)?.[name];
  const v = fromBody ?? fromQuery;
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}

/** `fields=a,b{c}`: top-level names only. */
function fieldsOf(req: Request, defaults: string[]): string[] {
  const raw = param(req, 'fields');
  if (!raw) return defaults;
  return raw
    .replace(/\{[^}]*\}/g, '')
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
}

/** `fields=…,edge{a,b}`: the fields asked of a nested edge (its defaults for a bare `edge`), or undefined. */
function nestedFieldsOf(req: Request, edge: string, defaults: string[]): string[] | undefined {
  const raw = param(req, 'fields');
  const match = raw?.match(new RegExp(`(?:^|,)\\s*${edge}(?:\\{([^}]*)\\})?\\s*(?:,|$)`));
  if (!match) return undefined;
  return match[1] === undefined ? defaults : match[1].split(',').map((f) => f.trim()).filter(Boolean);
}

/** An edge expanded inside its parent: the first page, with `paging.next` when there are more. */
function nestedPage<T>(
  req: Request,
  edgePath: string,
  items: T[],
  render: (item: T) => Record<string, unknown>,
): { data: Record<string, unknown>[]; paging?: Record<string, unknown> } {
  const slice = items.slice(0, DEFAULT_PAGE_SIZE);
  if (slice.length === 0) return { data: [] };
  const paging: Record<string, unknown> = { cursors: { before: encodeCursor(0), after: encodeCursor(slice.length - 1) } };
  if (items.length > slice.length) {
    paging.next = `${req.protocol}://${req.get('host')}/${req.params.version}/${edgePath}?limit=${DEFAULT_PAGE_SIZE}&after=${encodeCursor(slice.length - 1)}`;
  }
  return { data: slice.map(render), paging };
}

/** Only the asked fields, `id` always; a field the node does not have is Meta's (#100) error. */
function pick(all: Record<string, unknown>, fields: string[], nodeType: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (!(f in all)) throw metaErrors.nonexistingField(f, nodeType);
    if (all[f] !== undefined && all[f] !== null) out[f] = all[f];
  }
  out.id = all.id;
  return out;
}

function wabaFields(w: SandboxWaba, world: SandboxWorld): Record<string, unknown> {
  return {
    id: w.id,
    name: w.name,
    currency: 'USD',
    timezone_id: '1',
    message_template_namespace: `sandbox_${w.id.slice(-6)}`,
    account_review_status: 'APPROVED',
    business_verification_status: 'verified',
    owner_business_info: { id: w.ownerBusinessId, name: world.businesses.get(w.ownerBusinessId)?.name },
    marketing_messages_onboarding_status: w.onboardingStatus,
    marketing_messages_lite_api_status: w.legacyStatus,
  };
}

function templateFields(t: SandboxTemplate): Record<string, unknown> {
  return { id: t.id, name: t.name, language: t.language, status: t.status, category: t.category, components: [] };
}

const PHONE_DEFAULT_FIELDS = ['verified_name', 'code_verification_status', 'display_phone_number', 'quality_rating', 'platform_type', 'id'];

function phoneNumberFields(n: SandboxPhoneNumber): Record<string, unknown> {
  return {
    id: n.id,
    display_phone_number: n.displayPhoneNumber,
    verified_name: n.verifiedName,
    platform_type: n.platformType,
    status: n.status,
    code_verification_status: n.codeVerificationStatus,
    quality_rating: 'GREEN',
    throughput: { level: 'STANDARD' },
  };
}

function businessFields(b: SandboxBusiness): Record<string, unknown> {
  return {
    id: b.id,
    name: b.name,
    verification_status: 'verified',
    marketing_messages_onboarding_status: { status: b.onboarding.status, ...(b.onboarding.time ? { time: b.onboarding.time } : {}) },
  };
}

const filtering = z.array(
  z.object({ field: z.string(), operator: z.string(), value: z.union([z.string(), z.array(z.string())]) }),
);

/** `filtering=[{"field":"marketing_messages_onboarding_status","operator":"IN","value":[…]}]`. */
function filterOf(req: Request): ((w: SandboxWaba) => boolean) | undefined {
  const raw = param(req, 'filtering');
  if (!raw) return undefined;
  let rules: z.infer<typeof filtering>;
  try {
    rules = filtering.parse(JSON.parse(raw));
  } catch {
    throw metaErrors.invalidParameter('param filtering must be an array of {field, operator, value} objects');
  }
  const tests = rules.map((rule) => {
    if (rule.field !== 'marketing_messages_onboarding_status') {
      throw metaErrors.invalidParameter(`Filtering field ${rule.field} is invalid`);
    }
    const values = Array.isArray(rule.value) ? rule.value : [rule.value];
    if (rule.operator === 'IN') return (w: SandboxWaba) => values.includes(w.onboardingStatus ?? '');
    if (rule.operator === 'EQUAL') return (w: SandboxWaba) => w.onboardingStatus === values[0];
    throw metaErrors.invalidParameter(`Filtering operator ${rule.operator} is not supported for ${rule.field}`);
  });
  return (w) => tests.every((t) => t(w));
}

const encodeCursor = (index: number) => Buffer.from(`sandbox-cursor:${index}`).toString('base64');

function decodeCursor(cursor: string): number {
  const match = Buffer.from(cursor, 'base64').toString('utf8').match(/^sandbox-cursor:(\d+)$/);
  if (!match) throw metaErrors.invalidParameter('Invalid cursor');
  return Number(match[1]);
}

/** One page of a list, cut by `limit` and `after`, with Meta's `paging` object. */
function page<T>(
  req: Request,
  items: readonly T[],
  render: (item: T) => Record<string, unknown>,
  keep: (item: T) => boolean = () => true,
): { data: Record<string, unknown>[]; paging?: Record<string, unknown> } {
  const limitParam = Number(param(req, 'limit') ?? DEFAULT_PAGE_SIZE);
  const limit = Number.isInteger(limitParam) && limitParam > 0 ? Math.min(limitParam, MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE;
  const after = param(req, 'after');
  const start = after ? decodeCursor(after) + 1 : 0;
  const slice = items.slice(start, start + limit);
  const data = slice.filter(keep).map(render);
  if (slice.length === 0) return { data };
  // A slipped cursor (fault `slipped_cursor`) points at the page's first row: the next page overlaps this one.
  const last = req.res?.locals.slippedCursor && start + slice.length < items.length ? start : start + slice.length - 1;
  const paging: Record<string, unknown> = { cursors: { before: encodeCursor(start), after: encodeCursor(last) } };
  if (last + 1 < items.length) paging.next = linkTo(req, { after: encodeCursor(last), limit: String(limit) });
  if (start > 0) paging.previous = linkTo(req, { before: encodeCursor(start), limit: String(limit) });
  return { data, paging };
}

/** Meta's `next`/`previous` links; the sandbox leaves the token out of them. */
function linkTo(req: Request, set: Record<string, string>): string {
  const url = new URL(`${req.protocol}://${req.get('host')}${req.originalUrl}`);
  for (const k of ['access_token', 'after', 'before']) url.searchParams.delete(k);
  for (const [k, v] of Object.entries(set)) url.searchParams.set(k, v);
  return url.toString();
}

