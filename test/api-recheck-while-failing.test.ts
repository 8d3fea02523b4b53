/**
 * A recheck while the cause persists (issue: "a recheck while the cause persists starts a storm"):
 * through the HTTP API, as an operator meets it.
 */
import { onboardingWorkflowId } from '../workflows/types';
import { startAppHarness, type AppHarness } from './harness/app-harness';
import { WEBHOOK_ONLY } from './harness/stack';

let h: AppHarness;
const world = () => h.stack.sandbox.world;

beforeAll(async () => {
  h = await startAppHarness();
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

const post = (path: string, body?: object) => h.http().post(path).set(h.auth).send(body ?? {});

test('a recheck while the token stays expired answers at once, stays in NEEDS_ATTENTION and reads Graph once', async () => {
  const waba = world().createWaba({ onboardingStatus: 'ELIGIBLE' });
  world().injectFault({ endpoint: 'waba_status', wabaId: waba.id, kind: 'token_expired', times: Infinity });
  await post('/v1/onboardings', { wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY });
  await h.stack.waitForStatus(waba.id, 'NEEDS_ATTENTION');
  const before = world().countCalls({ endpoint: 'waba_status', wabaId: waba.id });

  const startedAt = Date.now();
  const res = await post(`/v1/onboardings/${waba.id}/recheck`);
  expect(Date.now() - startedAt).toBeLessThan(10_000);
  expect(res.status).toBe(200);
  expect(res.body.status).toBe('NEEDS_ATTENTION');
  expect(res.body.statusReason).toMatch(/access token/i);

  // Left alone, nothing reads Graph for this WABA again.
  await new Promise((r) => setTimeout(r, 3_000));
  expect(world().countCalls({ endpoint: 'waba_status', wabaId: waba.id })).toBe(before + 1);
  expect((await h.stack.state(waba.id)).status).toBe('NEEDS_ATTENTION');
}, 60_000);

test('cancel answers 200 while a recheck of a persisting fault is under way', async () => {
  const waba = world().createWaba({ onboardingStatus: 'ELIGIBLE' });
  world().injectFault({ endpoint: 'waba_status', wabaId: waba.id, kind: 'permission', times: Infinity });
  await post('/v1/onboardings', { wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY });
  await h.stack.waitForStatus(waba.id, 'NEEDS_ATTENTION');

  const recheck = post(`/v1/onboardings/${waba.id}/recheck`).then((r) => r);
  await new Promise((r) => setTimeout(r, 1_000));
  const cancel = await post(`/v1/onboardings/${waba.id}/cancel`, { reason: 'operator gave up' });
  expect(cancel.status).toBe(200);
  expect(cancel.body.status).toBe('CANCELLED');
  expect((await recheck).status).toBeLessThan(500);
  const result = await h.stack.client.workflow.getHandle(onboardingWorkflowId(waba.id)).result();
  expect(result.status).toBe('CANCELLED');
}, 60_000);
