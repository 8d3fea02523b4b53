import { startAppHarness, type AppHarness } from '../../harness/app-harness';
import { eventually } from '../../harness/wait';

/**
 * The insights read's share of the Graph budget: its calls run on the Graph queue at the lowest
 * priority, so with the queue backed up by a read of many templates (GRAPH_MAX_RPS 2 here), an
 * onboarding's call is dispatched next, not after the read's queued calls.
 */

const MAX_RPS = 2;
let h: AppHarness;
beforeAll(async () => {
  h = await startAppHarness({ sandbox: { templateSyncMs: 200 }, env: { GRAPH_MAX_RPS: String(MAX_RPS) } });
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

const world = () => h.stack.sandbox.world;
const FAST = { templateSyncGraceSeconds: 1, statusPollIntervalSeconds: 3600 };

async function readyWaba(templates: number) {
  const waba = world().createWaba({ onboardingStatus: 'ONBOARDED' });
  for (let i = 0; i < templates; i++) await world().messaging.createTemplate(waba.id, { name: `promo_${i}`, notify: false });
  await h.http().post('/v1/onboardings').set(h.auth).send({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: FAST }).expect(201);
  await h.stack.waitForStatus(waba.id, 'READY', 60_000);
  return waba;
}

test("an onboarding's Graph call goes before the insights read's queued calls: insights have only what onboardings leave", async () => {
  const [read, rechecked] = [await readyWaba(20), await readyWaba(1)];
  const adReads = () => world().findCalls({ endpoint: 'ad_insights', wabaId: read.id });
  // A read of 20 ads: 10 at once on the Graph queue, which lets 2 a second through.
  const asked = h.http().get(`/v1/onboardings/${read.id}/insights`).set(h.auth);
  const answered = asked.then((res) => res);
  await eventually(async () => (adReads().length >= 2 ? true : undefined), 30_000, 'the read under way');
  const queuedAt = Math.max(...adReads().map((c) => c.seq));

  const recheck = h.http().post(`/v1/onboardings/${rechecked.id}/recheck`).set(h.auth).then((res) => res);
  const first = await eventually(async () => world().findCalls({ wabaId: rechecked.id }).find((c) => c.seq > queuedAt), 30_000, "the recheck's Graph call");
  // Ad reads that left between the read's start and the recheck's call: the one or two already dispatched, not the queue's rest.
  const before = adReads().filter((c) => c.seq > queuedAt && c.seq < first.seq).length;
  expect(before).toBeLessThanOrEqual(2);
  // The read still completes, after the recheck.
  expect([200, 202]).toContain((await recheck).status);
  const res = await answered;
  expect(res.status).toBe(200);
  expect(res.body.templates).toHaveLength(20);
  expect(adReads()).toHaveLength(20);
}, 180_000);
