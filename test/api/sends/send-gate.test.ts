import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { closeApp, createApp } from '../../../api/app';
import { capturingLogger, eventually, startAppHarness, type AppHarness } from '../../harness/app-harness';
import { statuses } from '../../harness/stack';
import { recordHistory } from '../../harness/histories';
import { onboardingWorkflowId } from '../../../workflows/types';

/**
 * The send gate end to end: the real app, workers, dev server and the Graph sandbox, whose webhooks
 * come back to the app. The sandbox syncs templates in 200 ms; onboardings wait 1 s (their grace).
 */

let h: AppHarness;
beforeAll(async () => {
  h = await startAppHarness({ sandbox: { templateSyncMs: 200 }, templateCacheMs: 300 });
});
afterAll(async () => {
  await h?.stop();
});

const world = () => h.stack.sandbox.world;
const FAST = { templateSyncGraceSeconds: 1, statusPollIntervalSeconds: 3600 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Another API process: its own app (and memory) on the same Temporal and sandbox. */
async function secondApi(templateCacheMs = 300) {
  const app = createApp({ config: h.stack.config, client: h.stack.client, log: capturingLogger(), templateCacheMs });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    http: () => request(url),
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await closeApp(app);
    },
  };
}

type Http = () => ReturnType<typeof request>;
const sendVia = (http: Http, wabaId: string, body: Record<string, unknown>) =>
  http().post(`/v1/onboardings/${wabaId}/messages`).set(h.auth).send(body);
const send = (wabaId: string, body: Record<string, unknown>) => sendVia(h.http, wabaId, body);
const templateBody = (phoneNumberId: string, extra: Record<string, unknown> = {}, name = 'spring_sale') => ({
  phoneNumberId,
  to: '+15550001111',
  template: { name, language: 'en_US', components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }] }] },
  ...extra,
});
const lastSent = () => world().messaging.sent.at(-1)!;
const getTemplate = (wabaId: string, name = 'spring_sale', language = 'en_US') =>
  h.http().get(`/v1/onboardings/${wabaId}/templates/${name}?language=${language}`).set(h.auth);

/** A READY onboarding whose approved marketing template `spring_sale` (en_US) the gate knows. */
async function readyOnboarding(options: Record<string, unknown> = {}, { waitForTemplate = true } = {}) {
  const waba = world().createWaba({ onboardingStatus: 'ONBOARDED' });
  await world().messaging.createTemplate(waba.id, { name: 'spring_sale', notify: false });
  await world().messaging.createTemplate(waba.id, { name: 'spring_sale', language: 'fr', notify: false });
  const started = await h
    .http()
    .post('/v1/onboardings')
    .set(h.auth)
    .send({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: { ...FAST, ...options } });
  expect(started.status).toBe(201);
  const ready = await h.stack.waitForStatus(waba.id, 'READY');
  await eventually(async () => ((await getTemplate(waba.id)).status === 200 ? true : undefined), 10_000, 'the template listing');
  if (waitForTemplate) await eventually(async () => ((await getTemplate(waba.id)).body.ready ? true : undefined), 15_000, 'the template to be ready');
  return { waba, phone: waba.phoneNumbers[0].id, ready };
}

async function acceptedUpdates(wabaId: string): Promise<number> {
  const history = await h.stack.client.workflow.getHandle(onboardingWorkflowId(wabaId)).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length;
}
async function signals(wabaId: string): Promise<number> {
  const history = await h.stack.client.workflow.getHandle(onboardingWorkflowId(wabaId)).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes).length;
}

describe('sending through the gate', () => {
  test('a ready template goes through /marketing_messages with the WABA default for message_activity_sharing, which a send can override', async () => {
    const { waba, phone } = await readyOnboarding({ messageActivitySharing: true });
    const sent = await send(waba.id, templateBody(phone));
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({ route: 'marketing_messages', messageId: lastSent().id, graph: { messages: [{ id: lastSent().id }] } });
    // The gate's own time and Graph's, apart, for the partner's tracing (and bench:sends).
    const timing = /^gate;dur=(\d+\.\d{2}), graph;dur=(\d+\.\d{2})$/.exec(sent.headers['server-timing']);
    expect(timing).not.toBeNull();
    expect(Number(timing![2])).toBeGreaterThan(0);
    expect(lastSent()).toMatchObject({ edge: 'marketing_messages', phoneNumberId: phone, messageActivitySharing: true, template: { name: 'spring_sale', language: 'en_US' } });

    const settings = await h.http().put(`/v1/onboardings/${waba.id}/settings`).set(h.auth).send({ messageActivitySharing: false });
    expect(settings.status).toBe(200);
    expect(settings.body.messageActivitySharing).toBe(false);
    await send(waba.id, templateBody(phone)).expect(200);
    expect(lastSent().messageActivitySharing).toBe(false);
    await send(waba.id, templateBody(phone, { messageActivitySharing: true })).expect(200);
    expect(lastSent().messageActivitySharing).toBe(true);

    await h.http().put(`/v1/onboardings/${waba.id}/settings`).set(h.auth).send({ messageActivitySharing: null }).expect(200);
    await send(waba.id, templateBody(phone)).expect(200);
    expect(lastSent()).not.toHaveProperty('messageActivitySharing');
    await recordHistory('ready-with-settings-and-a-recorded-send', h.stack.client.workflow.getHandle(onboardingWorkflowId(waba.id)));
  });

  test('a template not ready yet is answered 409 not_ready with readyAt, or sent through the Cloud API when asked', async () => {
    const { waba, phone, ready } = await readyOnboarding({ templateSyncGraceSeconds: 4, messageActivitySharing: false }, { waitForTemplate: false });
    const readyAt = new Date(Date.parse(ready.readyAt!) + 4_000).toISOString();
    const refused = await send(waba.id, templateBody(phone));
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'not_ready', details: { readyAt } });
    expect(refused.body.error.message).toMatch(/syncing/);

    const before = world().messaging.sent.length;
    const fallback = await send(waba.id, templateBody(phone, { fallback: 'cloud_api' }));
    expect(fallback.status).toBe(200);
    expect(fallback.body).toMatchObject({ route: 'cloud_api', messageId: lastSent().id, readyAt, notReadyReason: expect.stringMatching(/syncing/) });
    expect(world().messaging.sent.length).toBe(before + 1);
    expect(lastSent()).toMatchObject({ edge: 'messages' });
    expect(lastSent()).not.toHaveProperty('messageActivitySharing');
  });

  test('a WABA that is not READY, or a template the WABA does not have, is not ready either', async () => {
    const waba = world().createWaba({ onboardingStatus: 'ELIGIBLE', autoSign: false });
    await h.http().post('/v1/onboardings').set(h.auth).send({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: FAST }).expect(201);
    await h.stack.waitForStatus(waba.id, 'AWAITING_TERMS');
    const early = await send(waba.id, templateBody(waba.phoneNumbers[0].id));
    expect(early.status).toBe(409);
    expect(early.body.error.message).toMatch(/the onboarding is AWAITING_TERMS/);

    const { waba: ready, phone } = await readyOnboarding();
    const unknown = await send(ready.id, templateBody(phone, {}, 'no_such_template'));
    expect(unknown.status).toBe(409);
    expect(unknown.body.error.message).toMatch(/not an approved marketing template/);
    expect((await send('1234567', templateBody(phone))).status).toBe(404);
  });

  test("Meta's refusal comes back as 502 graph_error with Meta's code and subcode", async () => {
    const { waba, phone } = await readyOnboarding();
    // Meta paused the template and its webhook has not arrived: the gate lets it through, Meta refuses.
    world().wabas.get(waba.id)!.templates.find((t) => t.name === 'spring_sale' && t.language === 'en_US')!.status = 'PAUSED';
    const refused = await send(waba.id, templateBody(phone));
    expect(refused.status).toBe(502);
    expect(refused.body.error).toMatchObject({ code: 'graph_error', details: { code: 132015, subcode: null } });
    world().wabas.get(waba.id)!.templates.find((t) => t.name === 'spring_sale' && t.language === 'en_US')!.status = 'APPROVED';
    world().injectFault({ endpoint: 'marketing_messages', kind: 'throttle' });
    const throttled = await send(waba.id, templateBody(phone));
    expect(throttled.status).toBe(502);
    expect(throttled.body.error.details).toMatchObject({ code: 80008, subcode: 2446079 });
  });

  test('bad send and settings bodies are 400 naming the field', async () => {
    const bad = await send('1234567', { phoneNumberId: 'x', to: 'not-a-number', template: { name: 'Spring Sale', language: 'en_US' }, fallback: 'sms' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['fallback', 'phoneNumberId', 'template.name', 'to']);
    const settings = await h.http().put('/v1/onboardings/1234567/settings').set(h.auth).send({ messageActivitySharing: 'yes' });
    expect(settings.status).toBe(400);
    expect(settings.body.error.details[0]).toMatchObject({ in: 'body', path: 'messageActivitySharing' });
  });
});

describe('idle templates', () => {
  afterEach(() => {
    world().messaging.timing.idleMs = 7 * 24 * 3600 * 1000;
  });

  test('the first send after the idle window goes out and starts the re-sync; another API process with an older view does not send during it', async () => {
    const { waba, phone } = await readyOnboarding({ templateIdleSeconds: 3, templateSyncGraceSeconds: 2 });
    await send(waba.id, templateBody(phone)).expect(200);
    // Meta's 7 days, compressed like the onboarding's option, counted from this first use on both sides.
    world().messaging.timing.idleMs = 3_000;
    await eventually(async () => ((await getTemplate(waba.id)).body.lastSentAt ? true : undefined), 10_000, 'the first send recorded');
    await sleep(3_500);

    const other = await secondApi(60_000);
    try {
      // The other process reads the template while it is idle, and keeps that view a long while.
      expect((await other.http().get(`/v1/onboardings/${waba.id}/templates/spring_sale?language=en_US`).set(h.auth)).body.ready).toBe(true);

      const reuse = await send(waba.id, templateBody(phone));
      expect(reuse.status).toBe(200);
      expect(reuse.body.route).toBe('marketing_messages');
      expect(lastSent()).toMatchObject({ startedResync: true });

      const during = await send(waba.id, templateBody(phone));
      expect(during.status).toBe(409);
      expect(during.body.error.message).toMatch(/re-syncing/);
      const fromOther = await sendVia(other.http, waba.id, templateBody(phone));
      expect(fromOther.status).toBe(409);
      expect(fromOther.body.error.details.readyAt).toBe(during.body.error.details.readyAt);

      await sleep(2_100);
      await send(waba.id, templateBody(phone)).expect(200);
      expect(lastSent()).not.toHaveProperty('startedResync');
      await recordHistory('idle-template-resynced-by-its-reuse', h.stack.client.workflow.getHandle(onboardingWorkflowId(waba.id)));
    } finally {
      await other.stop();
    }
  });
});

describe('the cost of a send', () => {
  test('sends are not Temporal writes: one recorded send per template, whichever API process sends, and none after a restart', async () => {
    const { waba, phone } = await readyOnboarding();
    const updatesBefore = await acceptedUpdates(waba.id);
    const signalsBefore = await signals(waba.id);
    const other = await secondApi();
    try {
      for (let i = 0; i < 20; i++) {
        await send(waba.id, templateBody(phone)).expect(200);
        await sendVia(other.http, waba.id, templateBody(phone)).expect(200);
        await sendVia(other.http, waba.id, { ...templateBody(phone), template: { name: 'spring_sale', language: 'fr' } }).expect(200);
      }
      await eventually(async () => ((await acceptedUpdates(waba.id)) === updatesBefore + 2 ? true : undefined), 10_000, 'two recorded sends');
    } finally {
      await other.stop();
    }
    // A restarted API (a fresh process, nothing in memory) reads the recorded sends back and adds none.
    const restarted = await secondApi();
    try {
      const view = await restarted.http().get(`/v1/onboardings/${waba.id}/templates/spring_sale?language=en_US`).set(h.auth);
      expect(view.body).toMatchObject({ ready: true, lastSentAt: expect.any(String) });
      for (let i = 0; i < 10; i++) await sendVia(restarted.http, waba.id, templateBody(phone)).expect(200);
      await sleep(500);
    } finally {
      await restarted.stop();
    }
    expect(await acceptedUpdates(waba.id)).toBe(updatesBefore + 2);
    expect(await signals(waba.id)).toBe(signalsBefore);
  });
  test("50 templates' first sends at once (the midnight burst after the daily refresh): every send goes out, their records land in a few updates, one at a time, never one a send (a run takes 10 in flight)", async () => {
    const waba = world().createWaba({ onboardingStatus: 'ONBOARDED' });
    const names = Array.from({ length: 50 }, (_, i) => `burst_${i}`);
    for (const name of names) await world().messaging.createTemplate(waba.id, { name, notify: false });
    const started = await h.http().post('/v1/onboardings').set(h.auth).send({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: FAST });
    expect(started.status).toBe(201);
    await h.stack.waitForStatus(waba.id, 'READY');
    await eventually(async () => ((await getTemplate(waba.id, 'burst_49')).body.ready ? true : undefined), 15_000, 'the templates to be ready');
    const before = await acceptedUpdates(waba.id);
    const phone = waba.phoneNumbers[0].id;
    const answers = await Promise.all(names.map((name) => send(waba.id, templateBody(phone, {}, name))));
    // A refused send shows its body: which call gave way is the diagnosis.
    expect(answers.map((a) => (a.status === 200 ? 200 : { status: a.status, body: a.body }))).toEqual(names.map(() => 200));
    await eventually(
      async () => {
        const list = (await h.http().get(`/v1/onboardings/${waba.id}/templates`).set(h.auth)).body.templates as Array<{ lastSentAt?: string }>;
        return list.every((t) => t.lastSentAt !== undefined) ? true : undefined;
      },
      15_000,
      'every send recorded',
    );
    const updates = (await acceptedUpdates(waba.id)) - before;
    expect(updates).toBeGreaterThanOrEqual(1);
    // How many batches depends on how the sends spread over time (one update in flight per WABA, the
    // next carrying all that came due meanwhile): on a busy machine ten, idle two or three; one a send is the failure.
    expect(updates).toBeLessThanOrEqual(names.length / 2);
  });
});

describe('templates and account events from webhooks', () => {
  test('template webhooks keep the list current; one template is read by name and language', async () => {
    const { waba } = await readyOnboarding();
    await world().messaging.createTemplate(waba.id, { name: 'summer_sale' });
    await world().messaging.setTemplateStatus(waba.id, 'spring_sale', 'PAUSED', 'LOW_QUALITY');
    const list = await eventually(async () => {
      const res = await h.http().get(`/v1/onboardings/${waba.id}/templates`).set(h.auth);
      return res.body.templates?.length === 3 && res.body.templates.some((t: { status: string }) => t.status === 'PAUSED') ? res.body : undefined;
    });
    const byKey = Object.fromEntries(list.templates.map((t: { name: string; language: string }) => [`${t.name}/${t.language}`, t]));
    expect(byKey['summer_sale/en_US']).toMatchObject({ status: 'APPROVED', ready: false, readyAt: expect.any(String) });
    expect(byKey['spring_sale/en_US']).toMatchObject({ status: 'PAUSED', ready: false, reason: 'PAUSED: LOW_QUALITY' });
    expect(byKey['spring_sale/fr']).toMatchObject({ status: 'APPROVED', ready: true });

    const ambiguous = await h.http().get(`/v1/onboardings/${waba.id}/templates/spring_sale`).set(h.auth);
    expect(ambiguous.status).toBe(400);
    expect(ambiguous.body.error.details[0]).toMatchObject({ in: 'query', path: 'language' });
    expect((await getTemplate(waba.id, 'spring_sale', 'fr')).body).toMatchObject({ name: 'spring_sale', language: 'fr', ready: true });
    expect((await getTemplate(waba.id, 'no_such_template')).status).toBe(404);
  });

  test("a ban's REINSTATE webhook resumes the parked onboarding by itself; PARTNER_REMOVED ends it in OFFBOARDED", async () => {
    const { waba } = await readyOnboarding();
    await world().emitAccountEvent(waba.id, 'DISABLED_UPDATE');
    const parked = await h.stack.waitForStatus(waba.id, 'NEEDS_ATTENTION');
    await world().emitAccountEvent(waba.id, 'DISABLED_UPDATE', { ban_info: { waba_ban_state: 'REINSTATE', waba_ban_date: 'November 25, 2026' } });
    const again = await h.stack.waitForState(waba.id, (s) => s.status === 'READY' && s.history.length > parked.history.length);
    expect(statuses(again).slice(-4)).toEqual(['NEEDS_ATTENTION', 'CHECKING_ELIGIBILITY', 'SYNCING_TEMPLATES', 'READY']);

    await world().emitAccountEvent(waba.id, 'PARTNER_REMOVED');
    const ended = await h.stack.waitForStatus(waba.id, 'OFFBOARDED');
    expect(ended.statusReason).toMatch(/^PARTNER_REMOVED/);
    const res = await h.http().get(`/v1/onboardings/${waba.id}`).set(h.auth);
    expect(res.body.status).toBe('OFFBOARDED');
  });
});
