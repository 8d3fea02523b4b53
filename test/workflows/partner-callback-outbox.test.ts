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
  await waitUntil(() => partner.for(waba.id).filter((r) => r.answered === 200).length === 4, 60_000);
  const delivered = partner.for(waba.id).filter((r) => r.answered === 200);
  expect(delivered.map((r) => r.event.status)).toEqual(['CHECKING_ELIGIBILITY', 'AWAITING_TERMS', 'SYNCING_TEMPLATES', 'READY']);
  // At-least-once: the failed attempts were retries of the first event, never a later one jumping ahead.
  const failed = partner.for(waba.id).filter((r) => r.answered === 503);
  expect(failed.length).toBeGreaterThan(0);
  expect(new Set(failed.map((r) => r.event.status))).toEqual(new Set(['CHECKING_ELIGIBILITY']));
  partner.answer = () => 200;
}, 90_000);

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
