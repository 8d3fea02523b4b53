import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually, startAppHarness, type AppHarness } from '../../harness/app-harness';
import { statuses } from '../../harness/stack';
import { onboardingWorkflowId } from '../../../workflows/types';
import { SandboxMessageEvents } from '../../../sandbox/message-events';
import request from 'supertest';
import { closeApp, createApp } from '../../../api/app';
import { capturingLogger } from '../../harness/app-harness';

/**
 * After READY, the truth of delivery: every /marketing_messages send is STRICT, so a WABA Meta no
 * longer treats as onboarded is refused (not silently carried through Cloud API) and drift-checked
 * at most once an hour; templates Meta recategorises are refused as not marketing. The real app,
 * workers, dev server and the Graph sandbox, whose webhooks come back to the app.
 */

/** The partner's backend: every signed status-change callback it receives. */
const callbacks: Array<{ wabaId: string; status: string; previousStatus: string | null; reason?: string }> = [];
const partner = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    callbacks.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    res.writeHead(200).end('ok');
  });
});

let h: AppHarness;
beforeAll(async () => {
  await new Promise<void>((resolve) => partner.listen(0, '127.0.0.1', resolve));
  const callbackUrl = `http://127.0.0.1:${(partner.address() as AddressInfo).port}/mm`;
  h = await startAppHarness({
    sandbox: { templateSyncMs: 200 },
    templateCacheMs: 300,
    env: { PARTNER_CALLBACK_URL: callbackUrl, PARTNER_CALLBACK_SECRET: 'partner-callback-secret' },
  });
});
afterAll(async () => {
  await h?.stop();
  partner.closeAllConnections();
  await new Promise<void>((resolve) => partner.close(() => resolve()));
});

const world = () => h.stack.sandbox.world;
const events = () => new SandboxMessageEvents(world());
const FAST = { templateSyncGraceSeconds: 1, statusPollIntervalSeconds: 3600 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const send = (wabaId: string, body: Record<string, unknown>) => h.http().post(`/v1/onboardings/${wabaId}/messages`).set(h.auth).send(body);
const templateBody = (phoneNumberId: string, extra: Record<string, unknown> = {}) => ({
  phoneNumberId,
  to: '+15550001111',
  template: { name: 'spring_sale', language: 'en_US' },
  ...extra,
});
const lastSent = () => world().messaging.sent.at(-1)!;
const getTemplate = (wabaId: string) => h.http().get(`/v1/onboardings/${wabaId}/templates/spring_sale?language=en_US`).set(h.auth);
const statusReads = (wabaId: string) => world().findCalls({ endpoint: 'waba_status', wabaId }).length;

/** A READY onboarding whose approved marketing template `spring_sale` (en_US) is ready to send. */
async function readyOnboarding() {
  const waba = world().createWaba({ onboardingStatus: 'ONBOARDED' });
  await world().messaging.createTemplate(waba.id, { name: 'spring_sale', notify: false });
  await h.http().post('/v1/onboardings').set(h.auth).send({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: FAST }).expect(201);
  await h.stack.waitForStatus(waba.id, 'READY');
  await eventually(async () => ((await getTemplate(waba.id)).body.ready ? true : undefined), 15_000, 'the template to be ready');
  return { waba, phone: waba.phoneNumbers[0].id };
}

async function driftCheckUpdates(wabaId: string): Promise<number> {
  const history = await h.stack.client.workflow.getHandle(onboardingWorkflowId(wabaId)).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'requestDriftCheck')
    .length;
}

describe('no silent route', () => {
  test('every /marketing_messages send carries product_policy STRICT; /messages carries none', async () => {
    const { waba, phone } = await readyOnboarding();
    await send(waba.id, templateBody(phone)).expect(200);
    expect(lastSent()).toMatchObject({ edge: 'marketing_messages', productPolicy: 'STRICT' });
    expect(lastSent()).not.toHaveProperty('carriedBy');
  });

  test('a WABA Meta silently carries through Cloud API without STRICT is refused 409 not_onboarded_on_meta, drift-checked once for 15 refused sends, and parked naming Meta\'s status; the partner hears it; a terms webhook brings it back', async () => {
    const { waba, phone } = await readyOnboarding();
    // Meta no longer treats the WABA as onboarded. Without STRICT its /marketing_messages carries the
    // message through Cloud API and says nothing (the sandbox plays Meta's default CLOUD_API_FALLBACK):
    world().setStatus(waba.id, 'ELIGIBLE');
    world().messaging.send('marketing_messages', phone, { messaging_product: 'whatsapp', to: '+15550001111', type: 'template', template: { name: 'spring_sale', language: { code: 'en_US' } } });
    expect(lastSent()).toMatchObject({ edge: 'marketing_messages', carriedBy: 'cloud_api' });

    const readsBefore = statusReads(waba.id);
    const answers = await Promise.all(Array.from({ length: 15 }, () => send(waba.id, templateBody(phone))));
    for (const refused of answers) {
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatchObject({ code: 'not_onboarded_on_meta', details: { graphCode: 131055 } });
    }
    const parked = await h.stack.waitForStatus(waba.id, 'NEEDS_ATTENTION');
    expect(parked.statusReason).toMatch(/Meta reports ELIGIBLE/);
    expect(parked.lastDriftCheck).toMatchObject({ metaStatus: 'ELIGIBLE', cause: 'send', at: expect.any(String) });
    await sleep(1_000);
    expect(statusReads(waba.id)).toBe(readsBefore + 1);
    expect(await driftCheckUpdates(waba.id)).toBe(1);
    // Never carried silently: every one of them was STRICT and refused.
    expect(world().messaging.sent.filter((m) => m.wabaId === waba.id && m.carriedBy).length).toBe(1);

    const callback = await eventually(async () => callbacks.find((c) => c.wabaId === waba.id && c.status === 'NEEDS_ATTENTION'), 15_000, 'the partner callback');
    expect(callback).toMatchObject({ previousStatus: 'READY', reason: expect.stringMatching(/ELIGIBLE/) });
    const state = await h.http().get(`/v1/onboardings/${waba.id}`).set(h.auth).expect(200);
    expect(state.body.lastDriftCheck).toMatchObject({ metaStatus: 'ELIGIBLE' });

    // The business signs the terms again: Meta's webhook makes the parked onboarding read its status and resume.
    await world().signTerms(waba.id);
    const again = await h.stack.waitForState(waba.id, (s) => s.status === 'READY' && s.history.length > parked.history.length);
    expect(statuses(again).slice(-4)).toEqual(['NEEDS_ATTENTION', 'CHECKING_ELIGIBILITY', 'SYNCING_TEMPLATES', 'READY']);
  });

  test('with fallback cloud_api a refused send goes openly through /messages, saying why', async () => {
    const { waba, phone } = await readyOnboarding();
    world().injectFault({ endpoint: 'marketing_messages', wabaId: waba.id, kind: 'not_onboarded' });
    const sent = await send(waba.id, templateBody(phone, { fallback: 'cloud_api' }));
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({ route: 'cloud_api', messageId: lastSent().id, notReadyReason: expect.stringMatching(/131055/) });
    expect(lastSent()).toMatchObject({ edge: 'messages' });
    expect(lastSent()).not.toHaveProperty('productPolicy');
  });

  test("a refusal Meta's status does not confirm keeps READY, records lastDriftCheck, and a second one within the hour reads nothing", async () => {
    const { waba, phone } = await readyOnboarding();
    const readsBefore = statusReads(waba.id);
    world().injectFault({ endpoint: 'marketing_messages', wabaId: waba.id, kind: 'not_onboarded' });
    const refused = await send(waba.id, templateBody(phone));
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('not_onboarded_on_meta');
    const checked = await h.stack.waitForState(waba.id, (s) => s.lastDriftCheck !== undefined);
    expect(checked).toMatchObject({ status: 'READY', lastDriftCheck: { metaStatus: 'ONBOARDED', cause: 'send' } });
    expect(statusReads(waba.id)).toBe(readsBefore + 1);
    // Operators see it in the Web UI's current details of the run.
    const metadata = await h.stack.client.workflow.getHandle(onboardingWorkflowId(waba.id)).query<{ currentDetails: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toContain(`last drift check ${checked.lastDriftCheck!.at}: Meta says ONBOARDED`);

    // Meta's refusal passes: sends go through MM API again. Another refusal within the hour reads nothing.
    await send(waba.id, templateBody(phone)).expect(200);
    world().injectFault({ endpoint: 'marketing_messages', wabaId: waba.id, kind: 'not_onboarded' });
    expect((await send(waba.id, templateBody(phone))).status).toBe(409);
    await sleep(1_000);
    expect(statusReads(waba.id)).toBe(readsBefore + 1);
    expect(await driftCheckUpdates(waba.id)).toBe(1);
    expect((await h.stack.state(waba.id)).status).toBe('READY');

    // Another API process, with nothing in memory, within the hour: the onboarding refuses its ask
    // (no history event) and nothing reads Meta again.
    const other = createApp({ config: h.stack.config, client: h.stack.client, log: capturingLogger(), templateCacheMs: 300 });
    const server = await new Promise<import('node:http').Server>((resolve) => {
      const started = other.listen(0, '127.0.0.1', () => resolve(started));
    });
    try {
      const otherUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      world().injectFault({ endpoint: 'marketing_messages', wabaId: waba.id, kind: 'not_onboarded' });
      const fromOther = await request(otherUrl).post(`/v1/onboardings/${waba.id}/messages`).set(h.auth).send(templateBody(phone));
      expect(fromOther.body.error?.code).toBe('not_onboarded_on_meta');
      await eventually(async () => {
        const text = (await request(otherUrl).get('/metrics')).text;
        return /mm_drift_checks_total\{cause="send",result="refused"\} 1/.test(text) ? true : undefined;
      }, 10_000, 'the refused ask');
    } finally {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await closeApp(other);
    }
    expect(statusReads(waba.id)).toBe(readsBefore + 1);
    expect(await driftCheckUpdates(waba.id)).toBe(1);
  });
});

describe('category drift', () => {
  test('an impending category change changes nothing yet; a completed one refuses sends 409 not_marketing (or Cloud API with the fallback) until it is MARKETING again', async () => {
    const { waba, phone } = await readyOnboarding();
    const at = new Date(Date.now() + 7 * 24 * 3600 * 1000);
    at.setMilliseconds(0);
    await events().category(waba.id, 'spring_sale', 'UTILITY', { at });
    const announced = await eventually(async () => {
      const res = await getTemplate(waba.id);
      return res.body.categoryChangeAt ? res.body : undefined;
    }, 15_000, 'the impending change');
    expect(announced).toMatchObject({ category: 'MARKETING', ready: true, categoryChangeAt: at.toISOString() });
    await send(waba.id, templateBody(phone)).expect(200);
    expect(lastSent().edge).toBe('marketing_messages');

    await events().category(waba.id, 'spring_sale', 'UTILITY');
    const changed = await eventually(async () => {
      const res = await getTemplate(waba.id);
      return res.body.category === 'UTILITY' ? res.body : undefined;
    }, 15_000, 'the completed change');
    expect(changed).toMatchObject({ ready: false, reason: expect.stringMatching(/UTILITY/) });
    expect(changed).not.toHaveProperty('categoryChangeAt');
    const list = await h.http().get(`/v1/onboardings/${waba.id}/templates`).set(h.auth).expect(200);
    expect(list.body.templates[0]).toMatchObject({ name: 'spring_sale', category: 'UTILITY', ready: false });

    await eventually(async () => ((await send(waba.id, templateBody(phone))).body.error?.code === 'not_marketing' ? true : undefined), 5_000, 'the gate to hear it');
    const refused = await send(waba.id, templateBody(phone));
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'not_marketing', details: { category: 'UTILITY' } });
    const fallback = await send(waba.id, templateBody(phone, { fallback: 'cloud_api' }));
    expect(fallback.status).toBe(200);
    expect(fallback.body).toMatchObject({ route: 'cloud_api', notReadyReason: expect.stringMatching(/UTILITY/) });
    expect(lastSent()).toMatchObject({ edge: 'messages', category: 'UTILITY' });

    // Back to MARKETING: ready again once Meta has synced it (the onboarding's grace).
    await events().category(waba.id, 'spring_sale', 'MARKETING');
    await eventually(async () => ((await getTemplate(waba.id)).body.ready ? true : undefined), 15_000, 'ready again');
    await send(waba.id, templateBody(phone)).expect(200);
  });
});
