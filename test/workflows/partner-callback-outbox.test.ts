import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitUntil } from '../harness/wait';
import { FAST, startStack, WEBHOOK_ONLY, type Stack } from '../harness/stack';
import { historyAsText, recordHistory } from '../harness/histories';
import { termsSignedSignal } from '../../workflows/messages';
import { verifyCallbackSignature } from '../../activities/partner-callbacks';
import type { PartnerCallbackEvent } from '../../workflows/types';

const CALLBACK_SECRET = 'partner-callback-secret';

/** The partner's backend: records every delivery; answers per WABA as each test decides. */
class PartnerBackend {
  readonly received: Array<{ event: PartnerCallbackEvent; eventIdHeader: string; signatureValid: boolean; answered: number }> = [];
  answer: (event: PartnerCallbackEvent) => number = () => 200;
  private server?: Server;

  async listen(): Promise<string> {
    this.server = createServer(async (req, res) => {
      const raw = await readBody(req);
      const event = JSON.parse(raw.toString('utf8')) as PartnerCallbackEvent;
      const status = this.answer(event);
      this.received.push({
        event,
        eventIdHeader: String(req.headers['x-mm-event-id']),
        signatureValid: verifyCallbackSignature(raw, req.headers['x-mm-signature-256'] as string, CALLBACK_SECRET),
        answered: status,
      });
      res.writeHead(status).end();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/mm-callbacks?tenant=abc`;
  }

  for(wabaId: string) {
    return this.received.filter((r) => r.event.wabaId === wabaId);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
  });
}

const partner = new PartnerBackend();
let stack: Stack;
beforeAll(async () => {
  const url = await partner.listen();
  stack = await startStack({ env: { PARTNER_CALLBACK_URL: url, PARTNER_CALLBACK_SECRET: CALLBACK_SECRET } });
});
afterAll(async () => {
  await stack?.stop();
  await partner.close();
});


test('every status change reaches the partner signed, with a stable id, in order', async () => {
  const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'ONBOARDED' });
  const handle = await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: FAST });
  const ready = await stack.waitForStatus(waba.id, 'READY');
  await waitUntil(() => partner.for(waba.id).length >= 3);

  const got = partner.for(waba.id);
  expect(got.map((r) => [r.event.previousStatus, r.event.status])).toEqual([
    [null, 'CHECKING_ELIGIBILITY'],
    ['CHECKING_ELIGIBILITY', 'SYNCING_TEMPLATES'],
    ['SYNCING_TEMPLATES', 'READY'],
  ]);
  for (const r of got) {
    expect(r.signatureValid).toBe(true);
    expect(r.eventIdHeader).toBe(r.event.id);
    expect(r.event).toMatchObject({ type: 'onboarding.status_changed', wabaId: waba.id, businessId: waba.ownerBusinessId });
  }
  expect(new Set(got.map((r) => r.event.id)).size).toBe(3);
  expect(got.map((r) => r.event.at)).toEqual(ready.history.map((h) => h.at));
  // The secret and the callback URL's query never enter history.
  const history = await historyAsText(handle);
  expect(history).not.toContain(CALLBACK_SECRET);
  expect(history).not.toContain('tenant=abc');
  await recordHistory('onboarded-at-first-check-with-callbacks', handle);
});

test('a partner that is down holds up nothing and, once back, gets every event by id, in order', async () => {
  const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'ELIGIBLE' });
  let down = true;
  partner.answer = (e) => (e.wabaId === waba.id && down ? 503 : 200);
  const handle = await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY });
  await stack.waitForStatus(waba.id, 'AWAITING_TERMS');
  await handle.signal(termsSignedSignal, { source: 'webhook' });
  await stack.waitForStatus(waba.id, 'READY'); // while every delivery fails
  expect(partner.for(waba.id).every((r) => r.answered === 503)).toBe(true);

  down = false;
  // At-least-once, by id: the endpoint's circuit probes with this WABA's first event, which the WABA then delivers again.
  const deliveredIds = () => [...new Set(partner.for(waba.id).filter((r) => r.answered === 200).map((r) => r.event.id))];
  await waitUntil(() => deliveredIds().length === 4, 120_000);
  const byId = new Map(partner.for(waba.id).map((r) => [r.event.id, r.event.status]));
  expect(deliveredIds().map((id) => byId.get(id))).toEqual(['CHECKING_ELIGIBILITY', 'AWAITING_TERMS', 'SYNCING_TEMPLATES', 'READY']);
  // The failed attempts were of the first event, never a later one jumping ahead.
  const failed = partner.for(waba.id).filter((r) => r.answered === 503);
  expect(failed.length).toBeGreaterThan(0);
  expect(new Set(failed.map((r) => r.event.status))).toEqual(new Set(['CHECKING_ELIGIBILITY']));
  partner.answer = () => 200;
}, 180_000);

test('a 410 is recorded on the onboarding and not retried; later events still go out', async () => {
  const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'ONBOARDED' });
  partner.answer = (e) => (e.wabaId === waba.id && e.status === 'CHECKING_ELIGIBILITY' ? 410 : 200);
  await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: FAST });
  const state = await stack.waitForState(waba.id, (s) => s.status === 'READY' && s.callbackFailure !== undefined);
  await waitUntil(() => partner.for(waba.id).length >= 3);

  const refused = partner.for(waba.id).filter((r) => r.answered === 410);
  expect(refused).toHaveLength(1);
  expect(state.callbackFailure).toMatchObject({ eventId: refused[0].event.id, status: 410 });
  expect(partner.for(waba.id).filter((r) => r.answered === 200).map((r) => r.event.status)).toEqual(['SYNCING_TEMPLATES', 'READY']);
  partner.answer = () => 200;
});

test('a partner outage of many events: each WABA tries its first event 3 times, then one probe at a time asks the endpoint; once back, every event of every WABA arrives, in order per WABA', async () => {
  // An earlier test's circuit has finished telling its waiters.
  await waitUntil(async () => (await stack.client.workflow.count(`WorkflowType = "partnerCallbackCircuit" AND ExecutionStatus = "Running"`)).count === 0, 60_000, 'no circuit running');
  const wabas = Array.from({ length: 8 }, () => stack.sandbox.world.createWaba({ onboardingStatus: 'ONBOARDED' }));
  const ours = new Set(wabas.map((w) => w.id));
  let down = true;
  partner.answer = (e) => (ours.has(e.wabaId) && down ? 503 : 200);
  await Promise.all(wabas.map((w) => stack.start({ wabaId: w.id, businessId: w.ownerBusinessId, path: 'manual', options: FAST })));
  await Promise.all(wabas.map((w) => stack.waitForStatus(w.id, 'READY', 60_000)));
  const hits = () => partner.received.filter((r) => ours.has(r.event.wabaId));
  // Every WABA's first event has had its 3 attempts and the WABA waits on the endpoint's circuit.
  await waitUntil(() => wabas.every((w) => partner.for(w.id).length >= 3), 90_000, 'three attempts per WABA');
  await waitUntil(async () => (await stack.client.workflow.count(`PartnerCallbackWaiting IS NOT NULL AND ExecutionStatus = "Running"`)).count >= wabas.length, 30_000, 'every WABA waiting');
  const joined = hits().length;
  await new Promise((r) => setTimeout(r, 20_000));
  const during = hits().slice(joined);
  // Only the circuit's probe asked meanwhile: one event (its starter's), a handful of backed-off attempts, not one series per WABA.
  expect(new Set(during.map((r) => r.event.id)).size).toBeLessThanOrEqual(1);
  expect(during.length).toBeLessThanOrEqual(4);
  // Per WABA before it joined: its 3 attempts of its first event (one WABA's may also be the probe's).
  const probeWaba = during[0]?.event.wabaId;
  for (const w of wabas) if (w.id !== probeWaba) expect(partner.for(w.id)).toHaveLength(3);

  down = false;
  const deliveredIds = (wabaId: string) => [...new Set(partner.for(wabaId).filter((r) => r.answered === 200).map((r) => r.event.id))];
  await waitUntil(() => wabas.every((w) => deliveredIds(w.id).length === 3), 150_000, 'every event delivered');
  for (const w of wabas) {
    const byId = new Map(partner.for(w.id).map((r) => [r.event.id, r.event.status]));
    expect(deliveredIds(w.id).map((id) => byId.get(id))).toEqual(['CHECKING_ELIGIBILITY', 'SYNCING_TEMPLATES', 'READY']);
  }
  // Nobody is left waiting.
  await waitUntil(async () => (await stack.client.workflow.count(`PartnerCallbackWaiting IS NOT NULL AND ExecutionStatus = "Running"`)).count === 0, 30_000, 'no waiter left');
  partner.answer = () => 200;
}, 400_000);
