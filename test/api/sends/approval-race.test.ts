/**
 * A send in the moments after a template's approval webhook, while the gate's memory of the WABA
 * (its template book, cached for a while) predates the template: answered like the template route,
 * 409 `not_ready` with `readyAt`, not "not an approved marketing template". Real dev server, workers,
 * app and sandbox (whose approval webhook reaches the app).
 */
import { getTemplatesQuery } from '../../../workflows/messages';
import { onboardingWorkflowId } from '../../../workflows/types';
import { eventually, startAppHarness, type AppHarness } from '../../harness/app-harness';

let h: AppHarness;
beforeAll(async () => {
  // A long memory makes the race certain: the gate would answer from the book read before the approval.
  h = await startAppHarness({ sandbox: { templateSyncMs: 200 }, templateCacheMs: 120_000 });
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

const world = () => h.stack.sandbox.world;
const GRACE_SECONDS = 8;

test('a send right after the approval webhook answers 409 not_ready with the readyAt the template route gives', async () => {
  const waba = world().createWaba({ onboardingStatus: 'ONBOARDED' });
  await world().messaging.createTemplate(waba.id, { name: 'spring_sale', notify: false });
  const started = await h.http().post('/v1/onboardings').set(h.auth).send({
    wabaId: waba.id,
    businessId: waba.ownerBusinessId,
    path: 'manual',
    options: { templateSyncGraceSeconds: GRACE_SECONDS, statusPollIntervalSeconds: 3600 },
  });
  expect(started.status).toBe(201);
  await h.stack.waitForStatus(waba.id, 'READY', 30_000);
  const handle = h.stack.client.workflow.getHandle(onboardingWorkflowId(waba.id));
  await eventually(async () => ((await handle.query(getTemplatesQuery)).templates.length === 1 ? true : undefined), 10_000, 'the templates listed at READY');

  const send = (name: string) =>
    h.http().post(`/v1/onboardings/${waba.id}/messages`).set(h.auth).send({
      phoneNumberId: waba.phoneNumbers[0].id,
      to: '+15550001111',
      template: { name, language: 'en_US' },
    });
  // The gate now remembers the WABA's book: spring_sale only.
  expect((await send('spring_sale')).status).toBeGreaterThanOrEqual(200);

  await world().messaging.createTemplate(waba.id, { name: 'summer_sale' }); // approved, webhook sent
  await eventually(async () => ((await handle.query(getTemplatesQuery)).templates.some((t) => t.name === 'summer_sale') ? true : undefined), 10_000, 'the approval webhook');

  const refused = await send('summer_sale');
  expect(refused.status).toBe(409);
  expect(refused.body.error).toMatchObject({ code: 'not_ready', message: expect.stringMatching(/syncing the template/), details: { readyAt: expect.any(String) } });
  const route = (await h.http().get(`/v1/onboardings/${waba.id}/templates/summer_sale?language=en_US`).set(h.auth)).body;
  expect(route).toMatchObject({ status: 'APPROVED', ready: false });
  expect(refused.body.error.details.readyAt).toBe(route.readyAt);
  expect(world().messaging.sent.filter((m) => m.template?.name === 'summer_sale')).toEqual([]);
}, 90_000);
