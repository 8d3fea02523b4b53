import { eventually, startAppHarness, type AppHarness } from '../../harness/app-harness';

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
