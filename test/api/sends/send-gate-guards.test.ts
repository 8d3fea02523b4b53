import { eventually, startAppHarness, type AppHarness } from '../../harness/app-harness';
import { onboardingWorkflowId } from '../../../workflows/types';

/**
 * What the send gate refuses or forgets before a send reaches Meta (issue 24): deeply nested
 * components, a phone number of another WABA, a WABA Meta has offboarded, and a burst of sends of
 * an idle template. The real app, workers, dev server and the Graph sandbox.
 */

let h: AppHarness;
beforeAll(async () => {
  h = await startAppHarness({ sandbox: { templateSyncMs: 200 }, templateCacheMs: 30_000 });
});
afterAll(async () => {
  await h?.stop();
});

const world = () => h.stack.sandbox.world;
const FAST = { templateSyncGraceSeconds: 1, statusPollIntervalSeconds: 3600 };
const send = (wabaId: string, body: unknown) => h.http().post(`/v1/onboardings/${wabaId}/messages`).set(h.auth).send(body as object);
const templateBody = (phoneNumberId: string, components: unknown = [{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }] }]) => ({
  phoneNumberId,
  to: '+15550001111',
  template: { name: 'spring_sale', language: 'en_US', components },
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const getTemplate = (wabaId: string) => h.http().get(`/v1/onboardings/${wabaId}/templates/spring_sale?language=en_US`).set(h.auth);

/** A READY onboarding whose approved marketing template `spring_sale` (en_US) is ready to send. */
async function readyOnboarding(options: Record<string, unknown> = {}) {
  const waba = world().createWaba({ onboardingStatus: 'ONBOARDED' });
  await world().messaging.createTemplate(waba.id, { name: 'spring_sale', notify: false });
  await h.http().post('/v1/onboardings').set(h.auth).send({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: { ...FAST, ...options } }).expect(201);
  await h.stack.waitForStatus(waba.id, 'READY');
  await eventually(async () => ((await getTemplate(waba.id)).body.ready ? true : undefined), 15_000, 'the template to be ready');
  return { waba, phone: waba.phoneNumbers[0].id };
}

/** A send body, as text, whose one component's `parameters` nest `levels` arrays deep (JSON.stringify would overflow first). */
const deeplyNestedSend = (phoneNumberId: string, levels: number) =>
  `{"phoneNumberId":"${phoneNumberId}","to":"+15550001111","template":{"name":"spring_sale","language":"en_US",` +
  `"components":[{"type":"body","parameters":${'['.repeat(levels)}${']'.repeat(levels)}}]}}`;

describe('components nested too deep', () => {
  test('a send whose components nest 5,000 levels deep is a 400 naming template.components, before anything else', async () => {
    const { waba, phone } = await readyOnboarding();
    const before = world().messaging.sent.length;
    const deep = await send(waba.id, deeplyNestedSend(phone, 5_000)).set('Content-Type', 'application/json');
    expect(deep.status).toBe(400);
    expect(deep.body.error.details[0]).toMatchObject({ in: 'body', path: 'template.components' });
    expect(deep.body.error.details[0].message).toMatch(/nest.*32 levels/);
    expect(world().messaging.sent.length).toBe(before);
  });
});

describe("the phone number's WABA", () => {
  test('a send from a phone number of another WABA is a 400 naming phoneNumberId and never reaches Meta; a number added to the WABA since is read again', async () => {
    const { waba, phone } = await readyOnboarding();
    // Another WABA with the same template, whose terms were just signed (its onboarding starts from the
    // webhook and is SYNCING_TEMPLATES): Meta sends from its number once its template has synced.
    const other = world().createWaba({ onboardingStatus: 'ELIGIBLE', autoSign: false });
    await world().messaging.createTemplate(other.id, { name: 'spring_sale', notify: false });
    await world().signTerms(other.id);
    await h.stack.waitForStatus(other.id, 'SYNCING_TEMPLATES');
    await sleep(300);
    await send(waba.id, templateBody(phone)).expect(200);
    const before = world().messaging.sent.length;

    const foreign = await send(waba.id, templateBody(other.phoneNumbers[0].id));
    expect(foreign.status).toBe(400);
    expect(foreign.body.error.code).toBe('invalid_request');
    expect(foreign.body.error.details).toEqual([{ in: 'body', path: 'phoneNumberId', message: `is not a phone number of WABA ${waba.id}` }]);
    const fallback = await send(waba.id, { ...templateBody(other.phoneNumbers[0].id), fallback: 'cloud_api' });
    expect(fallback.status).toBe(400);
    expect(world().messaging.sent.length).toBe(before);

    // A number the WABA gained after the gate first read its list: unknown, so read again (past the re-read floor).
    const added = { ...waba.phoneNumbers[0], id: String(Number(phone) + 7) };
    world().wabas.get(waba.id)!.phoneNumbers.push(added);
    await sleep(2_100);
    const fromAdded = await send(waba.id, templateBody(added.id));
    expect(fromAdded.status).toBe(200);
    expect(world().messaging.sent.at(-1)).toMatchObject({ edge: 'marketing_messages', phoneNumberId: added.id });
  });

  test("with /phone_numbers failing, unknown numbers read it at most once per 2 s (the failure is remembered) and the WABA's known number still sends", async () => {
    const { waba, phone } = await readyOnboarding();
    await send(waba.id, templateBody(phone)).expect(200); // the gate now knows the WABA's number
    await sleep(2_100); // past the re-read floor of that read
    const reads = () => world().countCalls({ endpoint: 'phone_numbers', wabaId: waba.id });
    world().injectFault({ endpoint: 'phone_numbers', wabaId: waba.id, kind: 'server_error', times: Infinity });
    try {
      const readsBefore = reads();
      const started = Date.now();
      const unknown: number[] = [];
      for (let i = 0; i < 30; i++) unknown.push((await send(waba.id, templateBody(String(900_000_000_000_000 + i)))).status);
      const unknownMs = Date.now() - started;
      const unknownReads = reads() - readsBefore;
      const known: number[] = [];
      for (let i = 0; i < 10; i++) known.push((await send(waba.id, templateBody(phone))).status);
      console.log(`/phone_numbers failing: 30 unknown numbers in ${unknownMs} ms made ${unknownReads} reads; 10 sends of the known number made ${reads() - readsBefore - unknownReads} more: ${JSON.stringify(countsOf(known))}`);

      expect(unknown.every((s) => s === 502)).toBe(true);
      expect(unknownReads).toBeGreaterThanOrEqual(1);
      expect(unknownReads).toBeLessThanOrEqual(1 + Math.floor(unknownMs / 2_000));
      expect(known).toEqual(Array(10).fill(200));
      expect(reads() - readsBefore).toBe(unknownReads);
      // Remembered for the re-read floor only: past it, an unknown number reads again.
      await sleep(2_100);
      expect((await send(waba.id, templateBody('900000000000099'))).status).toBe(502);
      expect(reads() - readsBefore).toBe(unknownReads + 1);
    } finally {
      world().clearFaults();
    }
  });
});

describe('account events', () => {
  test('after an ACCOUNT_OFFBOARDED webhook, the process that received it sends nothing more through /marketing_messages, though its readiness memory was fresh', async () => {
    // This file's gate remembers readiness for 30 s: only the webhook can make it read again in time.
    const { waba, phone } = await readyOnboarding();
    await send(waba.id, templateBody(phone)).expect(200);
    await world().emitAccountEvent(waba.id, 'ACCOUNT_OFFBOARDED');
    await h.stack.waitForStatus(waba.id, 'OFFBOARDED');
    const before = world().messaging.sent.filter((m) => m.edge === 'marketing_messages').length;

    const after = await send(waba.id, templateBody(phone));
    expect(after.status).toBe(409);
    expect(after.body.error).toMatchObject({ code: 'not_ready', message: expect.stringMatching(/the onboarding is OFFBOARDED/) });
    const fallback = await send(waba.id, { ...templateBody(phone), fallback: 'cloud_api' });
    expect(fallback.body).toMatchObject({ route: 'cloud_api', notReadyReason: 'the onboarding is OFFBOARDED' });
    expect(world().messaging.sent.filter((m) => m.edge === 'marketing_messages').length).toBe(before);
  });
});

describe('a burst of sends of an idle template', () => {
  afterEach(() => {
    world().messaging.timing.idleMs = 7 * 24 * 3600 * 1000;
  });

  async function acceptedUpdates(wabaId: string): Promise<number> {
    const history = await h.stack.client.workflow.getHandle(onboardingWorkflowId(wabaId)).fetchHistory();
    return (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length;
  }

  test('200 concurrent sends of an idle template: one re-sync record, one send through /marketing_messages, every other send answered 409 with the same readyAt, no 503', async () => {
    const { waba, phone } = await readyOnboarding({ templateIdleSeconds: 3, templateSyncGraceSeconds: 8 });
    await send(waba.id, templateBody(phone)).expect(200);
    // Meta's 7 days, compressed like the onboarding's option, counted from this first use on both sides.
    world().messaging.timing.idleMs = 3_000;
    await eventually(async () => ((await getTemplate(waba.id)).body.lastSentAt ? true : undefined), 10_000, 'the first send recorded');
    await sleep(3_500);
    const updatesBefore = await acceptedUpdates(waba.id);
    const sentBefore = world().messaging.sent.length;
    const metricsBefore = await temporalCalls();

    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 200 }, () => send(waba.id, templateBody(phone))));
    const statuses = answers.map((a) => a.status);
    console.log(`200 concurrent sends of an idle template answered in ${Date.now() - started} ms: ${JSON.stringify(countsOf(statuses))}`);

    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(199);
    const sent = world().messaging.sent.slice(sentBefore);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ edge: 'marketing_messages', startedResync: true });
    const readyAts = new Set(answers.filter((a) => a.status === 409).map((a) => a.body.error.details?.readyAt));
    expect(readyAts.size).toBe(1);
    expect([...readyAts][0]).toEqual(expect.any(String));
    expect(await acceptedUpdates(waba.id)).toBe(updatesBefore + 1);
    // One update asked of Temporal, not one per send (199 refused ones queued behind each other before),
    // and the sends it answered share one read of the onboarding.
    const metricsAfter = await temporalCalls();
    console.log(`Temporal calls during the burst: ${JSON.stringify(minus(metricsAfter, metricsBefore))}`);
    expect(metricsAfter.updates - metricsBefore.updates).toBe(1);
    expect(metricsAfter.refused - metricsBefore.refused).toBe(0);
    expect(metricsAfter.queries - metricsBefore.queries).toBeLessThanOrEqual(3);
  });
});

/** This app's Temporal updates and queries so far, and the re-sync records the workflow refused, from /metrics. */
async function temporalCalls(): Promise<{ updates: number; queries: number; refused: number }> {
  const text = (await h.http().get('/metrics')).text;
  const sum = (pattern: RegExp) =>
    text
      .split('\n')
      .filter((line) => pattern.test(line))
      .reduce((total, line) => total + Number(line.split(' ').at(-1)), 0);
  return {
    updates: sum(/^mm_temporal_call_duration_seconds_count\{[^}]*operation="update"/),
    queries: sum(/^mm_temporal_call_duration_seconds_count\{[^}]*operation="query"/),
    refused: sum(/^mm_send_records_total\{[^}]*record="resync"[^}]*result="refused"/),
  };
}
const minus = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(Object.keys(a).map((k) => [k, a[k] - b[k]]));

function countsOf(values: number[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
