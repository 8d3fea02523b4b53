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
