import { eventually, startAppHarness, type AppHarness } from '../../harness/app-harness';
import { metaJson } from '../../../sandbox';
import { linkClickBody, messageStatusBody, type MessageStatus } from '../../../sandbox/message-events';
import type { SentMessageRecord } from '../../../sandbox/messaging';
import { onboardingWorkflowId } from '../../../workflows/types';

/**
 * Meta's `messages` webhooks (statuses and MM API link clicks), the highest-volume ones it sends: the
 * receiver counts them in /metrics and makes no Temporal call, except the bounded drift check when a
 * status says 131055 for a READY WABA. The real app, workers, dev server and the Graph sandbox.
 */

let h: AppHarness;
beforeAll(async () => {
  h = await startAppHarness({ sandbox: { templateSyncMs: 200 } });
});
afterAll(async () => {
  await h?.stop();
});

const world = () => h.stack.sandbox.world;
const FAST = { templateSyncGraceSeconds: 1, statusPollIntervalSeconds: 3600 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function metricsText(): Promise<string> {
  return (await h.http().get('/metrics').expect(200)).text;
}
/** The sum of a metric's samples whose labels include `labels`. */
function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return text
    .split('\n')
    .filter((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && wanted.every((w) => l.includes(w)))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}
/** Calls the API made to Temporal (every one is timed). */
const temporalCalls = (text: string) => metric(text, 'mm_temporal_call_duration_seconds_count');

async function historyLength(wabaId: string): Promise<number> {
  const history = await h.stack.client.workflow.getHandle(onboardingWorkflowId(wabaId)).fetchHistory();
  return history.events?.length ?? 0;
}

async function readyOnboarding() {
  const waba = world().createWaba({ onboardingStatus: 'ONBOARDED' });
  await h.http().post('/v1/onboardings').set(h.auth).send({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: FAST }).expect(201);
  await h.stack.waitForStatus(waba.id, 'READY');
  await eventually(async () => ((await h.http().get(`/v1/onboardings/${waba.id}/templates`).set(h.auth)).status === 200 ? true : undefined));
  return { waba, phone: waba.phoneNumbers[0].id };
}

/** A message the WABA sent, as the sandbox records one (MM API unless told otherwise). */
const message = (wabaId: string, phoneNumberId: string, i: number, edge: SentMessageRecord['edge'] = 'marketing_messages'): SentMessageRecord => ({
  id: `wamid.test-${wabaId}-${i}`,
  edge,
  phoneNumberId,
  wabaId,
  to: '+15550001111',
  type: 'template',
  template: { name: 'spring_sale', language: 'en_US' },
  category: 'MARKETING',
  at: new Date().toISOString(),
});
const post = async (body: unknown) => {
  const res = await h.postWebhook(metaJson(body));
  expect(res.status).toBe(200);
  return res;
};

test('300 statuses and 30 clicks are counted in /metrics, with no Temporal call and no history event', async () => {
  const { waba, phone } = await readyOnboarding();
  await sleep(500); // the template listing after READY settles
  const eventsBefore = await historyLength(waba.id);
  const before = await metricsText();

  // 90 MM API messages sent, delivered and read; 10 carried by Cloud API; 30 clicks.
  const statuses: MessageStatus[] = ['sent', 'delivered', 'read'];
  for (let batch = 0; batch < 10; batch++) {
    const bodies = Array.from({ length: 10 }, (_, j) => messageStatusBody(message(waba.id, phone, batch * 10 + j, batch === 9 ? 'messages' : 'marketing_messages'), statuses));
    // Meta batches: one delivery, ten changes.
    await post({ object: 'whatsapp_business_account', entry: bodies.flatMap((b) => b.entry) });
  }
  for (let i = 0; i < 10; i++) await post(linkClickBody(message(waba.id, phone, i), 3));

  const after = await metricsText();
  const delta = (name: string, labels: Record<string, string> = {}) => metric(after, name, labels) - metric(before, name, labels);
  expect(delta('mm_message_statuses_total')).toBe(300);
  expect(delta('mm_message_statuses_total', { status: 'delivered', category: 'marketing_lite' })).toBe(90);
  expect(delta('mm_message_statuses_total', { status: 'read', category: 'marketing' })).toBe(10);
  expect(delta('mm_marketing_link_clicks_total')).toBe(30);
  expect(delta('mm_webhook_deliveries_total', { outcome: 'accepted' })).toBe(20);
  expect(temporalCalls(after)).toBe(temporalCalls(before));
  expect(await historyLength(waba.id)).toBe(eventsBefore);
});

test('131055 statuses for a READY WABA ask for one drift check however many arrive; other errors are only counted', async () => {
  const { waba, phone } = await readyOnboarding();
  const reads = () => world().findCalls({ endpoint: 'waba_status', wabaId: waba.id }).length;
  const readsBefore = reads();
  const before = await metricsText();

  for (let i = 0; i < 5; i++) await post(messageStatusBody(message(waba.id, phone, 1000 + i), ['failed'], { errorCode: 131026 }));
  expect((await h.stack.state(waba.id)).lastDriftCheck).toBeUndefined();
  for (let i = 0; i < 20; i++) await post(messageStatusBody(message(waba.id, phone, 2000 + i), ['failed'], { errorCode: 131055 }));

  const checked = await h.stack.waitForState(waba.id, (s) => s.lastDriftCheck !== undefined);
  expect(checked).toMatchObject({ status: 'READY', lastDriftCheck: { metaStatus: 'ONBOARDED', cause: 'status_webhook' } });
  // More of them after the check: still the one.
  for (let i = 0; i < 5; i++) await post(messageStatusBody(message(waba.id, phone, 3000 + i), ['failed'], { errorCode: 131055 }));
  await sleep(1_000);
  expect(reads()).toBe(readsBefore + 1);

  const after = await metricsText();
  const delta = (name: string, labels: Record<string, string> = {}) => metric(after, name, labels) - metric(before, name, labels);
  expect(delta('mm_message_errors_total', { code: '131055' })).toBe(25);
  expect(delta('mm_message_errors_total', { code: '131026' })).toBe(5);
  expect(delta('mm_message_statuses_total', { status: 'failed', category: 'none' })).toBe(30);
  expect(delta('mm_drift_checks_total', { cause: 'status_webhook', result: 'asked' })).toBe(1);
  // One Temporal call in all: the drift check.
  expect(temporalCalls(after) - temporalCalls(before)).toBe(1);
  const history = await h.stack.client.workflow.getHandle(onboardingWorkflowId(waba.id)).fetchHistory();
  const updates = (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'requestDriftCheck');
  expect(updates).toHaveLength(1);
});

test('the sandbox plays status and click webhooks of the messages it carried', async () => {
  const { waba, phone } = await readyOnboarding();
  await world().messaging.createTemplate(waba.id, { name: 'spring_sale' });
  await eventually(async () => ((await h.http().get(`/v1/onboardings/${waba.id}/templates/spring_sale?language=en_US`).set(h.auth)).body.ready ? true : undefined));
  const sent = await h
    .http()
    .post(`/v1/onboardings/${waba.id}/messages`)
    .set(h.auth)
    .send({ phoneNumberId: phone, to: '+15550001111', template: { name: 'spring_sale', language: 'en_US' } })
    .expect(200);
  const before = await metricsText();
  const control = `${h.stack.sandboxUrl}/_sandbox/messages/${sent.body.messageId}`;
  const statusAnswer = await fetch(`${control}/statuses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  expect(((await statusAnswer.json()) as { delivery: { state: string } }).delivery.state).toBe('delivered');
  await fetch(`${control}/clicks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"count":2}' });
  const after = await metricsText();
  expect(metric(after, 'mm_message_statuses_total', { status: 'read', category: 'marketing_lite' }) - metric(before, 'mm_message_statuses_total', { status: 'read', category: 'marketing_lite' })).toBe(1);
  expect(metric(after, 'mm_marketing_link_clicks_total') - metric(before, 'mm_marketing_link_clicks_total')).toBe(2);
});
