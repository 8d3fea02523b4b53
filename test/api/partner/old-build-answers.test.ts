/**
 * No answer waits on the workers of an old build (docs/versioning.md). Onboardings (READY, and
 * AWAITING_TERMS) and a signup link's run start on build A; A's workers stop and build B's (the same
 * code, another build id) become the deployment's Current Version, and nobody moves A's runs yet.
 * Every read and update of those runs is then a quick 503 `temporarily_unavailable` with
 * `Retry-After`: never a 500, a GET without its history, or an update hanging until its 30 s
 * deadline, and not counted as a Temporal error. A signal sent meanwhile is kept: once A's workers
 * poll again, the run acts on it.
 */
import { createWorkers, type OnboardingWorkers } from '../../../worker/worker';
import { loadConfig } from '../../../config';
import { currentVersion } from '../../../temporal/deployment-version';
import { onboardingWorkflowId } from '../../../workflows/types';
import { eventually, startAppHarness, webhookBody, type AppHarness } from '../../harness/app-harness';
import { FAST, testServiceEnv, WEBHOOK_ONLY, workflowBundle } from '../../harness/stack';

const tag = Math.random().toString(36).slice(2, 10);
const BUILD_A = `a-${tag}`;
const BUILD_B = `b-${tag}`;
/** "Within a few seconds": a query's deadline (5 s) and a little; an update is checked after 2 s. */
const QUICK_MS = 7_000;

let h: AppHarness;
let workersB: OnboardingWorkers | undefined;
let runningB: Promise<void> | undefined;
let workersA: OnboardingWorkers | undefined;
let runningA: Promise<void> | undefined;
const world = () => h.stack.sandbox.world;

beforeAll(async () => {
  h = await startAppHarness({ env: { TEMPORAL_WORKER_BUILD_ID: BUILD_A, META_ES_CONFIG_ID: 'test-es-config', PUBLIC_BASE_URL: 'https://onboarding.example.com' } });
}, 180_000);

afterAll(async () => {
  for (const w of [workersA, workersB]) w?.shutdown();
  await Promise.all([runningA, runningB]);
  await h?.stop();
});

/** Workers of `buildId` on the stack's task queue and deployment (same code as A's: the harness's bundle). */
async function workersOf(buildId: string): Promise<{ workers: OnboardingWorkers; running: Promise<void> }> {
  const { stack } = h;
  const config = loadConfig(
    testServiceEnv(
      { temporalAddress: process.env.TEMPORAL_TEST_ADDRESS!, taskQueue: stack.config.temporal.taskQueue, graphUrl: stack.sandboxUrl },
      { GRAPH_MAX_RPS: '1000', TEMPORAL_WORKER_BUILD_ID: buildId },
    ),
  );
  const workers = await createWorkers(config, stack.workerConnection, stack.client, { workflowBundle: await workflowBundle(), shutdownGraceTime: '1s' }, stack.graphUsage);
  return { workers, running: workers.run() };
}

/** The count of `mm_temporal_call_duration_seconds` for one operation and result (0 when absent). */
async function temporalCalls(operation: string, result: string): Promise<number> {
  const text = (await h.http().get('/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(`mm_temporal_call_duration_seconds_count{operation="${operation}",result="${result}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** mm_sends_total for one route and outcome (0 when absent). */
async function sendsCounted(route: string, outcome: string): Promise<number> {
  const text = (await h.http().get('/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(`mm_sends_total{route="${route}",outcome="${outcome}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** Times a request; resolves with the response and how long it took. */
async function timed<T>(request: PromiseLike<T>): Promise<{ res: T; ms: number }> {
  const started = Date.now();
  const res = await request;
  return { res, ms: Date.now() - started };
}

function expectTemporarilyUnavailable(res: { status: number; headers: Record<string, string>; body: { error?: { code?: string; message?: string } } }, wabaId?: string) {
  expect(res.status).toBe(503);
  expect(res.body.error?.code).toBe('temporarily_unavailable');
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  if (wabaId) expect(res.body.error?.message).toContain(`WABA ${wabaId}'s onboarding`);
  expect(res.body.error?.message).toMatch(/not polling.*try again in \d+ s/);
}

const ready = { wabaId: '', phoneNumberId: '' };
const waiting = { wabaId: '', businessId: '' };
const ended = { wabaId: '' };
let linkToken = '';

test('onboardings and a signup link run on build A', async () => {
  const { stack } = h;
  const readyWaba = world().createWaba({ onboardingStatus: 'ONBOARDED' });
  const waitingWaba = world().createWaba({ onboardingStatus: 'ELIGIBLE', autoSign: false });
  Object.assign(ready, { wabaId: readyWaba.id, phoneNumberId: readyWaba.phoneNumbers[0].id });
  Object.assign(waiting, { wabaId: waitingWaba.id, businessId: waitingWaba.ownerBusinessId });
  for (const [waba, options] of [[readyWaba, FAST], [waitingWaba, WEBHOOK_ONLY]] as const) {
    const started = await h.http().post('/v1/onboardings').set(h.auth).send({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options });
    expect(started.status).toBe(201);
  }
  await stack.waitForStatus(ready.wabaId, 'READY');
  await stack.waitForStatus(waiting.wabaId, 'AWAITING_TERMS');
  // One that ends on A (cancelled): a release moves only open runs, so it stays A's for good.
  const endedWaba = world().createWaba({ onboardingStatus: 'ELIGIBLE', autoSign: false });
  ended.wabaId = endedWaba.id;
  expect((await h.http().post('/v1/onboardings').set(h.auth).send({ wabaId: endedWaba.id, businessId: endedWaba.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY })).status).toBe(201);
  await stack.waitForStatus(ended.wabaId, 'AWAITING_TERMS');
  expect((await h.http().post(`/v1/onboardings/${ended.wabaId}/cancel`).set(h.auth).send({})).status).toBe(200);
  await eventually(async () => ((await stack.client.workflow.getHandle(onboardingWorkflowId(ended.wabaId)).describe()).status.name === 'COMPLETED' ? true : undefined), 20_000, 'the cancelled run to close');

  // A link whose run exists: an attempt with a code Meta refuses starts it (and is refused).
  const link = await h.http().post('/v1/signup-links').set(h.auth).send({ options: WEBHOOK_ONLY });
  expect(link.status).toBe(201);
  linkToken = (link.body.url as string).split('/signup/')[1];
  expect((await h.http().post(`/signup/${linkToken}/complete`).send({ code: 'bogus', wabaId: '770000000000001' })).status).toBe(400);
  expect((await h.http().get(`/signup/${linkToken}`)).status).toBe(200);

  for (const wabaId of [ready.wabaId, waiting.wabaId]) {
    const info = (await stack.client.workflow.getHandle(onboardingWorkflowId(wabaId)).describe()).raw.workflowExecutionInfo?.versioningInfo;
    expect(info?.deploymentVersion?.buildId).toBe(BUILD_A);
  }
});

test("A's workers stop and build B becomes current, A's runs left where they are", async () => {
  await h.stack.stopWorkers();
  ({ workers: workersB, running: runningB } = await workersOf(BUILD_B));
  expect(await workersB!.makeCurrent({ timeoutMs: 60_000 })).toBe(true);
  const deploymentName = h.stack.config.temporal.deployment.name;
  expect(await currentVersion(h.stack.client, h.stack.config.temporal.namespace, deploymentName)).toEqual({ deploymentName, buildId: BUILD_B });
  // B serves new onboardings meanwhile.
  const fresh = world().createWaba({ onboardingStatus: 'ONBOARDED' });
  expect((await h.http().post('/v1/onboardings').set(h.auth).send({ wabaId: fresh.id, businessId: fresh.ownerBusinessId, path: 'manual', options: FAST })).status).toBe(201);
  expect((await h.stack.waitForStatus(fresh.id, 'READY')).history.length).toBeGreaterThan(0);
}, 90_000);

describe("while no worker of A's build polls", () => {
  let queryErrors: number;
  let recheckErrors: number;
  beforeAll(async () => {
    queryErrors = await temporalCalls('query', 'error');
    recheckErrors = await temporalCalls('recheck', 'error');
  });

  test('GET answers 503 temporarily_unavailable with Retry-After, never 200 with an empty history', async () => {
    for (const wabaId of [ready.wabaId, waiting.wabaId]) {
      const { res, ms } = await timed(h.http().get(`/v1/onboardings/${wabaId}`).set(h.auth));
      expectTemporarilyUnavailable(res, wabaId);
      expect(ms).toBeLessThan(QUICK_MS);
    }
  });

  test('GET of an onboarding that ended on A answers 200 with its final state and history, from its result (no worker needed)', async () => {
    const res = await h.http().get(`/v1/onboardings/${ended.wabaId}`).set(h.auth);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('CANCELLED');
    expect(res.body.history.map((e: { status: string }) => e.status)).toEqual(['CHECKING_ELIGIBILITY', 'AWAITING_TERMS', 'CANCELLED']);
  });

  test('a send answers 503 temporarily_unavailable within a few seconds, not a 500, and mm_sends_total counts it as unavailable', async () => {
    const unavailable = await sendsCounted('none', 'unavailable');
    const body = { phoneNumberId: ready.phoneNumberId, to: '+15550001111', template: { name: 'spring_sale', language: 'en_US' } };
    const { res, ms } = await timed(h.http().post(`/v1/onboardings/${ready.wabaId}/messages`).set(h.auth).send(body));
    expectTemporarilyUnavailable(res, ready.wabaId);
    expect(ms).toBeLessThan(QUICK_MS);
    expect(await sendsCounted('none', 'unavailable')).toBe(unavailable + 1);
  });

  test("/metrics counts the running onboardings pinned to each build: A's two, B's one, so a release shows what it has left to move", async () => {
    const { deployment } = h.stack.config.temporal;
    const line = (build: string) => new RegExp(`^mm_onboarding_runs_by_build\\{build="${deployment.name}:${build}"\\} (\\d+)$`, 'm');
    await eventually(async () => {
      const text = (await h.http().get('/metrics')).text;
      return line(BUILD_A).exec(text)?.[1] === '2' && line(BUILD_B).exec(text)?.[1] === '1' ? true : undefined;
    }, 20_000, 'mm_onboarding_runs_by_build for A and B');
  });

  test('recheck, cancel and settings answer 503 within a few seconds, not after the 30 s update deadline', async () => {
    const asks = [
      h.http().post(`/v1/onboardings/${waiting.wabaId}/recheck`).set(h.auth),
      h.http().put(`/v1/onboardings/${ready.wabaId}/settings`).set(h.auth).send({ messageActivitySharing: true }),
      h.http().post(`/v1/onboardings/${ready.wabaId}/cancel`).set(h.auth).send({ reason: 'old build test' }),
    ];
    for (const ask of asks) {
      const { res, ms } = await timed(ask);
      expectTemporarilyUnavailable(res);
      expect(res.body.error.message).toMatch(/may still take effect once the run moves; repeating it is safe/);
      expect(ms).toBeLessThan(QUICK_MS);
    }
  });

  test('an insights read answers 503 temporarily_unavailable', async () => {
    const { res, ms } = await timed(h.http().get(`/v1/onboardings/${ready.wabaId}/insights`).set(h.auth));
    expectTemporarilyUnavailable(res, ready.wabaId);
    expect(ms).toBeLessThan(QUICK_MS);
  });

  test('the signup link page and an attempt through it answer 503 with Retry-After within a few seconds', async () => {
    const page = await timed(h.http().get(`/signup/${linkToken}`));
    expect(page.res.status).toBe(503);
    expect(Number(page.res.headers['retry-after'])).toBeGreaterThan(0);
    expect(page.res.text).toContain('Reload this page');
    expect(page.ms).toBeLessThan(QUICK_MS);

    const waba = world().createWaba({ autoSign: false });
    const attempt = await timed(h.http().post(`/signup/${linkToken}/complete`).send({ code: world().issueSignupCode(waba.id), wabaId: waba.id }));
    expectTemporarilyUnavailable(attempt.res);
    expect(attempt.ms).toBeLessThan(QUICK_MS);
  });

  test("none of it counts as a Temporal error: the calls' result is no_poller", async () => {
    expect(await temporalCalls('query', 'no_poller')).toBeGreaterThanOrEqual(3);
    expect(await temporalCalls('recheck', 'no_poller')).toBeGreaterThanOrEqual(1);
    expect(await temporalCalls('query', 'error')).toBe(queryErrors);
    expect(await temporalCalls('recheck', 'error')).toBe(recheckErrors);
  });

  test('a terms webhook is accepted meanwhile (signals need no worker)', async () => {
    const res = await h.postWebhook(
      webhookBody([
        {
          id: waiting.businessId,
          changes: [{ field: 'account_update', value: { event: 'MM_LITE_TERMS_SIGNED', waba_info: { waba_id: waiting.wabaId, owner_business_id: waiting.businessId } } }],
        },
      ]),
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: 1, unusable: 0 });
  });
});

test("once A's workers poll again, the run acts on the signal it was sent meanwhile, and GET answers with its history; the updates answered 503 take effect too, as their answer said they may", async () => {
  ({ workers: workersA, running: runningA } = await workersOf(BUILD_A));
  const state = await h.stack.waitForState(waiting.wabaId, (s) => s.termsSignedAt !== undefined, 60_000);
  expect(state.termsSource).toBe('webhook');
  const res = await eventually(async () => {
    const r = await h.http().get(`/v1/onboardings/${waiting.wabaId}`).set(h.auth);
    return r.status === 200 ? r : undefined;
  }, 30_000, 'GET to answer 200');
  expect(res.body.history.map((e: { status: string }) => e.status)).toEqual(expect.arrayContaining(['CHECKING_ELIGIBILITY', 'AWAITING_TERMS', 'SYNCING_TEMPLATES']));
  // The server kept the updates it could not deliver: the settings and the cancel of the READY one.
  expect(await h.stack.waitForState(ready.wabaId, (s) => s.status === 'CANCELLED', 30_000)).toMatchObject({ messageActivitySharing: true, statusReason: 'old build test' });
}, 90_000);
