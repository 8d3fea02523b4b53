import { GraphClient, GraphThrottledError, GraphUsage } from '../../graph';
import { createSandbox, type Sandbox } from '../../sandbox';
import { failureOf } from '../harness/failures';

/** The Graph client paces itself by Meta's usage headers (the sandbox reports what a test sets). */

const TOKEN = 'EAAGsystemUserTokenForUsage0123456789';
const MAX_RPS = 20;

let sandbox: Sandbox;
let url: string;

beforeAll(async () => {
  sandbox = createSandbox({ appId: 'usage-app', appSecret: 'usage-app-secret', accessToken: TOKEN });
  ({ url } = await sandbox.listen(0));
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(() => sandbox.world.reset());

function clientWithUsage() {
  const usage = new GraphUsage(MAX_RPS);
  const graph = new GraphClient({ baseUrl: url, version: 'v24.0', accessToken: TOKEN, appId: 'usage-app', appSecret: 'usage-app-secret', usage });
  return { usage, graph };
}

async function timeCalls(graph: GraphClient, wabaId: string, n: number): Promise<number> {
  const started = Date.now();
  await Promise.all(Array.from({ length: n }, () => graph.getWabaOnboardingStatus(wabaId)));
  return Date.now() - started;
}

test('every answer reports the app and business-use-case usage; below 75 % calls go at full speed', async () => {
  const { usage, graph } = clientWithUsage();
  const waba = sandbox.world.createWaba();
  sandbox.world.usage.set({ appPercent: 40, businessPercent: 60 });
  await graph.getWabaOnboardingStatus(waba.id);
  expect(usage.snapshot()).toEqual({ percent: { app: 40, business_use_case: 60 }, callsPerSecond: MAX_RPS, slowedBusinesses: 0 });
  expect(usage.reserve(5_000, waba.id)).toEqual({ waitMs: 0 });
  await graph.close();
});

test("a business's calls slow down as its usage approaches 100 %; other businesses' calls do not", async () => {
  const { usage, graph } = clientWithUsage();
  const waba = sandbox.world.createWaba();
  const other = sandbox.world.createWaba();
  sandbox.world.usage.set({ businessPercent: 95, businessId: waba.ownerBusinessId });
  await graph.getWabaOnboardingStatus(waba.id); // learns the 95 % and whose it is
  await graph.getWabaOnboardingStatus(other.id);
  // The app's pace is untouched; only that business is slowed.
  expect(usage.snapshot()).toEqual({ percent: { app: 1, business_use_case: 95 }, callsPerSecond: MAX_RPS, slowedBusinesses: 1 });
  // 95 % leaves a fifth of the room between 75 % and 100 %: 4 of that business's calls a second instead of 20.
  const calls = 5;
  const elapsed = await timeCalls(graph, waba.id, calls);
  expect(elapsed).toBeGreaterThanOrEqual(((calls - 1) * 1000) / (MAX_RPS / 5) - 50);
  expect(sandbox.world.countCalls({ endpoint: 'waba_status', wabaId: waba.id })).toBe(calls + 1);
  // Right after them, the next turn of the slowed business is taken; the other business's is free.
  expect(usage.reserve(0, waba.id)).toEqual({ retryAfterMs: expect.any(Number) });
  expect(usage.reserve(0, other.id)).toEqual({ waitMs: 0 });

  // Usage back down: full speed again.
  sandbox.world.usage.set({ businessPercent: 10 });
  await graph.getWabaOnboardingStatus(waba.id);
  expect(usage.snapshot()).toMatchObject({ callsPerSecond: MAX_RPS, slowedBusinesses: 0 });
  await graph.close();
});

test("a business-use-case throttle holds back that business's calls until Meta's regain time; other businesses go at full speed", async () => {
  const { usage, graph } = clientWithUsage();
  const throttled = sandbox.world.createWaba();
  const sameBusiness = sandbox.world.createWaba({ ownerBusinessId: throttled.ownerBusinessId });
  const other = sandbox.world.createWaba();
  await graph.getWabaOnboardingStatus(sameBusiness.id); // learns whose WABA it is
  sandbox.world.injectFault({ endpoint: 'waba_status', wabaId: throttled.id, kind: 'throttle', regainAccessMinutes: 2 });
  const err = await failureOf(graph.getWabaOnboardingStatus(throttled.id));
  expect(err).toBeInstanceOf(GraphThrottledError);
  expect((err as GraphThrottledError).retryAfterMs).toBe(120_000);
  expect(usage.snapshot()).toEqual({ percent: { app: 1, business_use_case: 100 }, callsPerSecond: MAX_RPS, slowedBusinesses: 1 });

  // Another WABA of that business: not sent to Meta, handed back to retry once access is back.
  const before = sandbox.world.countCalls({ endpoint: 'waba_status', wabaId: sameBusiness.id });
  const heldBack = await failureOf(graph.getWabaOnboardingStatus(sameBusiness.id));
  expect(heldBack).toBeInstanceOf(GraphThrottledError);
  expect((heldBack as GraphThrottledError).retryAfterMs).toBeGreaterThan(110_000);
  expect(sandbox.world.countCalls({ endpoint: 'waba_status', wabaId: sameBusiness.id })).toBe(before);

  // Another business's calls go out at once, as many as asked, never held back.
  await Promise.all(Array.from({ length: 10 }, () => graph.getWabaOnboardingStatus(other.id)));
  expect(sandbox.world.countCalls({ endpoint: 'waba_status', wabaId: other.id })).toBe(10);
  expect(usage.reserve(0, other.id)).toEqual({ waitMs: 0 });
  await graph.close();
});

test('an app-level throttle (code 4, X-App-Usage) slows every business', async () => {
  const { usage, graph } = clientWithUsage();
  const throttled = sandbox.world.createWaba();
  const other = sandbox.world.createWaba();
  sandbox.world.injectFault({ endpoint: 'waba_status', wabaId: throttled.id, kind: 'app_throttle' });
  const err = await failureOf(graph.getWabaOnboardingStatus(throttled.id));
  expect(err).toMatchObject({ kind: 'throttled', code: 4 });
  // The app's allowance is used up: every call trickles at 2 % of the pace, other businesses' too.
  expect(usage.snapshot()).toMatchObject({ percent: { app: 100 }, callsPerSecond: MAX_RPS * 0.02 });
  expect(usage.reserve(5_000, other.id)).toEqual({ waitMs: 0 });
  // A turn further away than the client will hold a call gives the activity slot back instead.
  expect(usage.reserve(1_000, other.id)).toEqual({ retryAfterMs: expect.any(Number) });
  await graph.close();
});

test('the pace holds between departures: a call whose turn fired late (a busy machine) pushes the next call back', () => {
  let now = 1_000_000;
  const usage = new GraphUsage(10, () => now);
  usage.throttled('100', 4); // the app's allowance is used up: 2 % of 10 calls/s, one call every 5 s
  expect(usage.reserve(60_000, '200')).toEqual({ waitMs: 0 });
  expect(usage.reserve(60_000, '300')).toEqual({ waitMs: 5_000 });
  now += 3_000; // the first call's turn came, but its timer fired 3 s late
  expect(usage.depart('200')).toBe(0);
  now += 2_000; // the second call's turn, on time: only 2 s after the first actually left
  expect(usage.depart('300')).toBe(3_000);
  now += 3_000;
  expect(usage.depart('300')).toBe(0);
  // Turns reserved from now on start a pace after that departure.
  expect(usage.reserve(60_000, '400')).toEqual({ waitMs: 5_000 });
});
