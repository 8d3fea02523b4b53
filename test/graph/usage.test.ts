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
  expect(usage.snapshot()).toEqual({ percent: { app: 40, business_use_case: 60 }, callsPerSecond: MAX_RPS });
  expect(usage.reserve(5_000)).toEqual({ waitMs: 0 });
  await graph.close();
});

test("calls slow down as Meta's usage approaches 100 %", async () => {
  const { usage, graph } = clientWithUsage();
  const waba = sandbox.world.createWaba();
  sandbox.world.usage.set({ businessPercent: 95, businessId: waba.ownerBusinessId });
  await graph.getWabaOnboardingStatus(waba.id); // learns the 95 %
  // 95 % leaves a fifth of the room between 75 % and 100 %: 4 calls a second instead of 20.
  expect(usage.snapshot().callsPerSecond).toBeCloseTo(MAX_RPS / 5);
  const calls = 5;
  const elapsed = await timeCalls(graph, waba.id, calls);
  expect(elapsed).toBeGreaterThanOrEqual(((calls - 1) * 1000) / (MAX_RPS / 5) - 50);
  expect(sandbox.world.countCalls({ endpoint: 'waba_status', wabaId: waba.id })).toBe(calls + 1);

  // Usage back down: full speed again.
  sandbox.world.usage.set({ businessPercent: 10 });
  await graph.getWabaOnboardingStatus(waba.id);
  expect(usage.snapshot().callsPerSecond).toBe(MAX_RPS);
  await graph.close();
});

test('a throttled call waits out its own regain time; other calls only slow down, never stop', async () => {
  const { usage, graph } = clientWithUsage();
  const throttled = sandbox.world.createWaba();
  const other = sandbox.world.createWaba();
  sandbox.world.injectFault({ endpoint: 'waba_status', wabaId: throttled.id, kind: 'throttle', regainAccessMinutes: 2 });
  const err = await failureOf(graph.getWabaOnboardingStatus(throttled.id));
  expect(err).toBeInstanceOf(GraphThrottledError);
  expect((err as GraphThrottledError).retryAfterMs).toBe(120_000);

  // Meta reported 100 % for that business: every call trickles at 2 % of the pace, but still goes.
  expect(usage.snapshot()).toEqual({ percent: { app: 1, business_use_case: 100 }, callsPerSecond: MAX_RPS * 0.02 });
  expect(await graph.getWabaOnboardingStatus(other.id)).toEqual({ status: 'ELIGIBLE', field: 'marketing_messages_onboarding_status' });
  // A turn further away than the client will hold a call gives the activity slot back instead.
  expect(usage.reserve(1_000)).toEqual({ retryAfterMs: expect.any(Number) });
  await graph.close();
});
