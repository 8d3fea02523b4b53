import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { faultSpec, GRAPH_ENDPOINTS, type Fault } from './faults';
import { ACCOUNT_EVENTS } from './payloads';
import { SandboxConflict, SandboxNotFound, type SandboxWorld } from './state';
import { MessagingNotFound } from './messaging';
import { MESSAGE_STATUSES, SandboxMessageEvents } from './message-events';

/**
 * `/_sandbox/*`: drive the fake world over HTTP (see sandbox/README.md). JSON in and out; a bad body
 * is a 400 naming each bad field, in the service's own error shape `{ error: { code, message, details } }`.
 */
export function controlRoutes(world: SandboxWorld): express.Router {
  const router = express.Router();
  router.use(express.json({ limit: '5mb' }));

  const id = z.string().regex(/^\d{1,20}$/, 'must be a Graph id (digits)');
  const status = z.string().min(1);
  const repeatAnswer = z.enum(['same_request_id', 'already_sent']);

  const newBusiness = z.strictObject({ id: id.optional(), name: z.string().optional(), repeatAnswer: repeatAnswer.optional(), onboardingStatus: status.optional() });
  const patchBusiness = z.strictObject({ repeatAnswer: repeatAnswer.optional(), onboardingStatus: status.optional() });
  const newPhoneNumber = z.strictObject({
    id: id.optional(),
    displayPhoneNumber: z.string().optional(),
    platformType: z.string().min(1).optional(),
    status: z.string().min(1).optional(),
    codeVerificationStatus: z.string().min(1).optional(),
  });
  const newWaba = z.strictObject({
    id: id.optional(),
    name: z.string().optional(),
    ownerBusinessId: id.optional(),
    partnerBusinessId: id.optional(),
    onboardingStatus: status.nullable().optional(),
    legacyStatus: status.nullable().optional(),
    phoneNumbers: z.union([z.number().int().min(0).max(1000), z.array(newPhoneNumber).max(1000)]).optional(),
    autoSign: z.boolean().optional(),
  });
  const setStatus = z.strictObject({ status: status.nullable(), legacyStatus: status.nullable().optional() });
  const signTerms = z.strictObject({
    legacy: z.boolean().optional(),
    onlyLegacy: z.boolean().optional(),
    legacyField: z.enum(['ad_account_id', 'ad_account_linked']).optional(),
    duplicate: z.number().int().min(1).max(100).optional(),
    batchWith: z.array(id).max(1000).optional(),
  });
  const accountEvent = z.strictObject({ event: z.enum(ACCOUNT_EVENTS), extra: z.record(z.string(), z.unknown()).optional() });
  const newTemplate = z.strictObject({
    id: id.optional(),
    name: z.string().regex(/^[a-z0-9_]{1,512}$/, 'must be a template name (lower case, digits, _)'),
    language: z.string().min(2).max(16).optional(),
    category: z.enum(['MARKETING', 'UTILITY', 'AUTHENTICATION']).optional(),
    status: status.optional(),
    notify: z.boolean().optional(),
  });
  const templateStatus = z.strictObject({ status, reason: z.string().max(300).optional() });
  const sentFilter = z.strictObject({ wabaId: z.string().optional(), edge: z.enum(['messages', 'marketing_messages']).optional() });
  const rawWebhook = z.strictObject({ body: z.union([z.string(), z.record(z.string(), z.unknown())]) });
  const webhookUrl = z.strictObject({ url: z.url({ protocol: /^https?$/ }).nullable() });
  const callFilter = z.strictObject({
    endpoint: z.enum([...GRAPH_ENDPOINTS, 'unknown']).optional(),
    method: z.enum(['GET', 'POST']).optional(),
    wabaId: z.string().optional(),
    businessId: z.string().optional(),
    status: z.coerce.number().int().optional(),
  });

  router.get('/world', (_req, res) => {
    res.json({
      webhookUrl: world.webhookUrl ?? null,
      businesses: [...world.businesses.values()],
      wabas: [...world.wabas.values()],
      faults: world.listFaults().map(faultJson),
    });
  });

  router.post('/reset', (_req, res) => {
    world.reset();
    res.status(204).end();
  });

  router.post('/seed-demo', (_req, res) => {
    res.status(201).json(world.seedDemo());
  });

  router.put('/webhook-url', (req, res) => {
    const { url } = parse(webhookUrl, req.body);
    world.setWebhookUrl(url ?? undefined);
    res.json({ url });
  });

  router.post('/businesses', (req, res) => {
    res.status(201).json(world.createBusiness(parse(newBusiness, req.body)));
  });

  router.get('/businesses/:id', (req, res) => {
    res.json(world.business(req.params.id));
  });

  router.patch('/businesses/:id', (req, res) => {
    const patch = parse(patchBusiness, req.body);
    const business = world.business(req.params.id);
    if (patch.repeatAnswer) world.setRepeatAnswer(business.id, patch.repeatAnswer);
    if (patch.onboardingStatus) business.onboarding = { status: patch.onboardingStatus, time: new Date().toISOString() };
    res.json(business);
  });

  router.post('/wabas', (req, res) => {
    res.status(201).json(world.createWaba(parse(newWaba, req.body)));
  });

  router.get('/wabas/:id', (req, res) => {
    res.json(world.waba(req.params.id));
  });

  router.post('/wabas/:id/status', (req, res) => {
    const body = parse(setStatus, req.body);
    res.json(world.setStatus(req.params.id, body.status, { legacyStatus: body.legacyStatus }));
  });

  const scopes = z.strictObject({ scopes: z.array(z.string().min(1)).max(50).optional() });

  router.post('/wabas/:id/signup-codes', (req, res) => {
    const code = world.issueSignupCode(req.params.id, parse(scopes, req.body ?? {}));
    res.status(201).json({ code, expiresAt: new Date(world.codeExpiry(code) ?? Date.now()).toISOString() });
  });

  router.post('/wabas/:id/plan-signup', (req, res) => {
    world.planSignup({ wabaId: req.params.id, ...parse(scopes, req.body ?? {}) });
    res.status(204).end();
  });

  router.put('/token-scopes', (req, res) => {
    const body = parse(z.strictObject({ scopes: z.array(z.string().min(1)).max(50) }), req.body);
    world.systemTokenScopes = body.scopes;
    res.json(body);
  });

  router.get('/signup-launches', (_req, res) => {
    res.json({ launches: world.signupLaunches });
  });

  router.post('/wabas/:id/sign-terms', async (req, res) => {
    const deliveries = await world.signTerms(req.params.id, parse(signTerms, req.body ?? {}));
    res.json({ deliveries });
  });

  router.post('/wabas/:id/events', async (req, res) => {
    const { event, extra } = parse(accountEvent, req.body);
    res.json({ delivery: await world.emitAccountEvent(req.params.id, event, extra) });
  });

  router.post('/wabas/:id/templates', async (req, res) => {
    res.status(201).json(await world.messaging.createTemplate(req.params.id, parse(newTemplate, req.body)));
  });

  router.post('/wabas/:id/templates/:templateId/status', async (req, res) => {
    const { status: newStatus, reason } = parse(templateStatus, req.body);
    res.json(await world.messaging.setTemplateStatus(req.params.id, req.params.templateId, newStatus, reason));
  });

  const events = new SandboxMessageEvents(world);
  const statusesBody = z.strictObject({
    statuses: z.array(z.enum(MESSAGE_STATUSES)).min(1).max(10).optional(),
    errorCode: z.number().int().min(0).optional(),
  });
  const clicksBody = z.strictObject({ count: z.number().int().min(1).max(1000).optional() });
  const categoryBody = z.strictObject({
    category: z.enum(['MARKETING', 'UTILITY', 'AUTHENTICATION']),
    impendingAt: z.iso.datetime().optional(),
  });

  router.post('/messages/:id/statuses', async (req, res) => {
    const { statuses, errorCode } = parse(statusesBody, req.body);
    res.json({ delivery: await events.statuses(req.params.id, statuses, errorCode !== undefined ? { errorCode } : {}) });
  });

  router.post('/messages/:id/clicks', async (req, res) => {
    res.json({ delivery: await events.clicks(req.params.id, parse(clicksBody, req.body).count) });
  });

  router.post('/wabas/:id/templates/:templateId/category', async (req, res) => {
    const { category, impendingAt } = parse(categoryBody, req.body);
    res.json({ delivery: await events.category(req.params.id, req.params.templateId, category, impendingAt ? { at: new Date(impendingAt) } : undefined) });
  });

  router.get('/messages', (req, res) => {
    const filter = parse(sentFilter, req.query);
    const messages = world.messaging.sent.filter((m) => (!filter.wabaId || m.wabaId === filter.wabaId) && (!filter.edge || m.edge === filter.edge));
    res.json({ count: messages.length, messages });
  });

  router.post('/webhooks', async (req, res) => {
    res.json({ delivery: await world.deliverRaw(parse(rawWebhook, req.body).body) });
  });

  router.post('/faults', (req, res) => {
    res.status(201).json(faultJson(world.injectFault(parse(faultSpec, req.body))));
  });

  router.get('/faults', (_req, res) => {
    res.json({ faults: world.listFaults().map(faultJson) });
  });

  router.delete('/faults', (_req, res) => {
    world.clearFaults();
    res.status(204).end();
  });

  const usage = z.strictObject({
    appPercent: z.number().min(0).max(1000).optional(),
    businessPercent: z.number().min(0).max(1000).optional(),
    businessId: id.optional(),
  });
  router.put('/usage', (req, res) => {
    world.usage.set(parse(usage, req.body));
    res.json({ appPercent: world.usage.appPercent });
  });

  const insightsMode = z.strictObject({ deprecated: z.boolean() });
  router.put('/insights', (req, res) => {
    world.insights.deprecated = parse(insightsMode, req.body).deprecated;
    res.json({ deprecated: world.insights.deprecated });
  });

  router.get('/calls', (req, res) => {
    const calls = world.findCalls(parse(callFilter, req.query));
    res.json({ count: calls.length, calls });
  });

  router.get('/deliveries', (_req, res) => {
    res.json({ deliveries: world.deliveries });
  });

  router.use((req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: `no sandbox route ${req.method} ${req.path}` } });
  });

  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof BadRequest) {
      res.status(400).json({ error: { code: 'invalid_request', message: err.message, details: err.details } });
    } else if (err instanceof SandboxNotFound || err instanceof MessagingNotFound) {
      res.status(404).json({ error: { code: 'not_found', message: err.message } });
    } else if (err instanceof SandboxConflict) {
      res.status(409).json({ error: { code: 'conflict', message: err.message } });
    } else if (err instanceof SyntaxError || (err as { type?: string }).type === 'entity.parse.failed') {
      res.status(400).json({ error: { code: 'invalid_request', message: 'body is not valid JSON' } });
    } else {
      res.status(500).json({ error: { code: 'internal', message: (err as Error).message } });
    }
  });

  return router;
}

class BadRequest extends Error {
  constructor(
    message: string,
    readonly details: Array<{ field: string; message: string }>,
  ) {
    super(message);
  }
}

function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const details = result.error.issues.flatMap((issue) => {
    // Unknown keys are reported once per key, named.
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    return keys.map((key) => ({
      field: [...issue.path, ...(key === undefined ? [] : [key])].map(String).join('.') || '(body)',
      message: key === undefined ? issue.message : 'unknown field',
    }));
  });
  throw new BadRequest(details.map((d) => `${d.field}: ${d.message}`).join('; '), details);
}

const faultJson = (f: Fault) => ({ ...f, remaining: f.remaining === Infinity ? 'Infinity' : f.remaining });
