import { ScheduleNotFoundError } from '@temporalio/client';
import type { DiscoveryState } from '../../../workflows/discovery-types';
import { eventually, startAppHarness, type AppHarness } from '../../harness/app-harness';
import { WEBHOOK_ONLY } from '../../harness/stack';

let h: AppHarness;
const world = () => h.stack.sandbox.world;
const schedules: string[] = [];

beforeAll(async () => {
  h = await startAppHarness();
}, 120_000);

afterAll(async () => {
  for (const id of schedules) await h.stack.client.schedule.getHandle(id).delete().catch((err) => {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  });
  await h?.stop();
});

const post = (body: object) => h.http().post('/v1/discoveries').set(h.auth).send(body);
const get = (id: string) => h.http().get(`/v1/discoveries/${id}`).set(h.auth);

async function completed(id: string, startedAfter?: string): Promise<DiscoveryState> {
  return eventually(async () => {
    const res = await get(id);
    const state = res.body as DiscoveryState;
    return state.status === 'COMPLETED' && (!startedAfter || state.startedAt > startedAfter) ? state : undefined;
  }, 30_000, `discovery ${id} to complete`);
}

function portfolio(statuses: string[]) {
  const partner = world().createBusiness();
  const owner = world().createBusiness();
  const wabas = statuses.map((onboardingStatus) => world().createWaba({ partnerBusinessId: partner.id, ownerBusinessId: owner.id, onboardingStatus }));
  return { partner, owner, wabas };
}

describe('POST /v1/discoveries', () => {
  test('needs a key and a valid body; repeatEverySeconds below 3600 is refused naming the field', async () => {
    expect((await h.http().post('/v1/discoveries').send({ businessId: '1' })).status).toBe(401);
    const badId = await post({ businessId: 'x' });
    expect(badId.status).toBe(400);
    expect(badId.body.error.details).toEqual([expect.objectContaining({ in: 'body', path: 'businessId' })]);
    const tooOften = await post({ businessId: '123', repeatEverySeconds: 600 });
    expect(tooOften.status).toBe(400);
    expect(tooOften.body.error.details).toEqual([expect.objectContaining({ in: 'body', path: 'repeatEverySeconds' })]);
    expect((await post({ businessId: '123', path: 'carrier_pigeon' })).status).toBe(400);
  });

  test('answers 202 with the discovery, 200 with the same one while it runs, and GET shows its exact progress', async () => {
    const { partner, owner, wabas } = portfolio(['ELIGIBLE', 'ONBOARDED', 'ELIGIBLE']);
    world().injectFault({ endpoint: 'client_wabas', businessId: partner.id, kind: 'latency', latencyMs: 1500 });
    const first = await post({ businessId: partner.id, options: WEBHOOK_ONLY });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ id: `mm-discovery:${partner.id}`, businessId: partner.id, path: 'intent', status: 'RUNNING', pages: 0, found: 0 });
    expect(first.body.schedule).toBeUndefined();

    const again = await post({ businessId: partner.id });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: first.body.id, status: 'RUNNING', startedAt: first.body.startedAt });

    const done = await completed(first.body.id);
    expect(done).toMatchObject({ pages: 1, found: 2, started: 2, alreadyRunning: 0, failed: 0, completedAt: expect.any(String) });
    for (const waba of [wabas[0], wabas[2]]) {
      const onboarding = await eventually(async () => {
        const res = await h.http().get(`/v1/onboardings/${waba.id}`).set(h.auth);
        return res.status === 200 ? res.body : undefined;
      });
      expect(onboarding).toMatchObject({ businessId: owner.id, path: 'intent' });
    }
  });

  test('GET of an unknown discovery is 404, of a malformed id 400', async () => {
    expect((await get('mm-discovery:999999999')).status).toBe(404);
    const bad = await get('not-a-discovery');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0]).toMatchObject({ in: 'params', path: 'id' });
  });

  test('repeatEverySeconds keeps a Temporal Schedule that picks up a WABA which became eligible after the first run', async () => {
    const { partner, wabas } = portfolio(['ELIGIBLE', 'PENDING_VALID_PAYMENT_METHOD']);
    const [eligible, later] = wabas;
    const res = await post({ businessId: partner.id, path: 'manual', options: WEBHOOK_ONLY, repeatEverySeconds: 3600 });
    expect(res.status).toBe(202);
    expect(res.body.schedule).toEqual({ id: `mm-discovery-schedule:${partner.id}`, everySeconds: 3600 });
    schedules.push(res.body.schedule.id);
    const first = await completed(res.body.id);
    expect(first).toMatchObject({ found: 1, started: 1, schedule: res.body.schedule });

    // The customer adds a payment method; the next scheduled run (triggered now: no hour-long wait) finds it.
    world().setStatus(later.id, 'ELIGIBLE');
    await h.stack.client.schedule.getHandle(res.body.schedule.id).trigger();
    const second = await completed(res.body.id, first.startedAt);
    expect(second).toMatchObject({ found: 2, started: 1, alreadyRunning: 1, failed: 0, path: 'manual', schedule: res.body.schedule });
    await h.stack.waitForStatus(later.id, 'AWAITING_TERMS');
    expect((await h.stack.state(eligible.id)).history.filter((c) => c.status === 'CHECKING_ELIGIBILITY')).toHaveLength(1);

    // A second POST with another interval re-times the same schedule.
    const retimed = await post({ businessId: partner.id, repeatEverySeconds: 7200 });
    expect(retimed.body.schedule).toEqual({ id: res.body.schedule.id, everySeconds: 7200 });
  }, 90_000);

  test("the workers' Graph gauges show the usage Meta reports and the pace they allow themselves", async () => {
    const { partner } = portfolio(['ONBOARDED']);
    world().usage.set({ businessPercent: 90, businessId: partner.id });
    const res = await post({ businessId: partner.id });
    await completed(res.body.id);
    // What worker/graph-usage-gauges.ts publishes on the workers' metrics endpoint (served: test/deploy/shutdown.test.ts).
    const now = h.stack.graphUsage.snapshot();
    expect(now.percent).toEqual({ business_use_case: 90, app: 1 });
    // 90 % of one business's allowance slows that business's calls (to 40 %), never the app's pace.
    expect(now.callsPerSecond).toBe(h.stack.config.graph.maxRps);
    expect(now.slowedBusinesses).toBeGreaterThanOrEqual(1);
  });
});
