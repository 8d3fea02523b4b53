/**
 * Pacing by whose allowance Meta says is used up: a business's throttling (`X-Business-Use-Case-Usage`,
 * 80008) holds back only that business's calls; the app's (`X-App-Usage`) slows every call. Shown
 * on the real dev server and sandbox through the calls the sandbox recorded, the onboardings'
 * histories and the workers' Graph gauges, not through wall-clock durations.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { eventually, FAST, startAppHarness, type AppHarness } from '../harness/app-harness';

/** High enough that a trickle (2 % of it) still lets a test finish, low enough to matter. */
const MAX_RPS = 50;
const TRICKLE_RPS = MAX_RPS * 0.02;
/** Meta's `estimated_time_to_regain_access` for the throttled business, in minutes (3 s). */
const REGAIN_MINUTES = 0.05;
/** The sandbox stamps a call when it arrives; a few ms of HTTP either way on an idle machine. */
const ARRIVAL_TOLERANCE_MS = 100;
/**
 * On a loaded machine one arrival's stamp can lag its call's departure by a few hundred ms more than
 * the next one's (the sandbox shares the workers' event loop here): 218 ms seen beside 2 busy
 * processes, where the worker's own departures were a full pace apart. No two paced calls arrive
 * closer than a quarter pace; their mean gap, over which such lags spread, holds the pace itself.
 */
const LOADED_MIN_GAP_SHARE = 0.25;
/** What one onboarding's Graph activities may cost at most under a fault that never clears (graph-calls: 10 attempts). */
const ATTEMPTS_CEILING = 10;

let h: AppHarness;
beforeAll(async () => {
  h = await startAppHarness({ env: { GRAPH_MAX_RPS: String(MAX_RPS) } });
}, 120_000);
afterAll(async () => {
  await h?.stop();
});
afterEach(() => {
  h.stack.sandbox.world.clearFaults();
  h.stack.sandbox.world.usage.set({ appPercent: 1, businessPercent: 1 });
});

const world = () => h.stack.sandbox.world;
const callsOf = (wabaId: string) => world().findCalls({ wabaId });
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The workers' pacing, as their metrics endpoint publishes it (worker/graph-usage-gauges.ts; the
 * endpoint itself: test/deploy/shutdown.test.ts and test/observability/).
 */
async function gauge(name: 'mm_graph_allowed_calls_per_second' | 'mm_graph_slowed_businesses'): Promise<number> {
  const now = h.stack.graphUsage.snapshot();
  return name === 'mm_graph_allowed_calls_per_second' ? now.callsPerSecond : now.slowedBusinesses;
}

/** The attempt each Graph (and other) activity of the run completed on: 1 when none was held back or retried. */
async function activityAttempts(handle: WorkflowHandle): Promise<number[]> {
  const events = (await handle.fetchHistory()).events ?? [];
  return events.flatMap((e) => (e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt ?? 1] : []));
}

function gapsMs(calls: Array<{ at: string }>): number[] {
  const times = calls.map((c) => Date.parse(c.at)).sort((a, b) => a - b);
  return times.slice(1).map((t, i) => t - times[i]);
}

/** READY, and the templates listed that READY asks for (the onboarding's last Graph call). */
async function readyWithTemplates(waba: { id: string }, timeoutMs: number): Promise<void> {
  await h.stack.waitForStatus(waba.id, 'READY', timeoutMs);
  await eventually(async () => (callsOf(waba.id).some((c) => c.endpoint === 'message_templates') ? true : undefined), timeoutMs, `${waba.id}'s templates`);
}

const onboardedWaba = (ownerBusinessId?: string) => world().createWaba({ onboardingStatus: 'ONBOARDED', ownerBusinessId });
const startManual = (waba: { id: string; ownerBusinessId: string }) =>
  h.stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: FAST });

test("one business's throttling holds back only its own calls: other businesses reach READY at the app's full pace", async () => {
  // What one onboarding of this shape costs with nobody throttled.
  const baseline = onboardedWaba();
  await startManual(baseline);
  await readyWithTemplates(baseline, 30_000);
  const callsPerOnboarding = callsOf(baseline.id).length;
  expect(callsPerOnboarding).toBeGreaterThanOrEqual(2);

  // Business X: every call that counts against it is throttled, for good.
  const throttled = onboardedWaba();
  world().injectFault({ businessId: throttled.ownerBusinessId, kind: 'throttle', regainAccessMinutes: REGAIN_MINUTES, times: Infinity });
  await startManual(throttled);
  await eventually(async () => (callsOf(throttled.id).some((c) => c.faults?.includes('throttle')) ? true : undefined), 15_000, 'the first throttled call');

  // The app's pace stays GRAPH_MAX_RPS; only X is counted as slowed.
  expect(await gauge('mm_graph_allowed_calls_per_second')).toBe(MAX_RPS);
  expect(await gauge('mm_graph_slowed_businesses')).toBeGreaterThanOrEqual(1);

  // Twelve onboardings of other businesses, all at once, while X stays throttled.
  const others = Array.from({ length: 12 }, () => onboardedWaba());
  const handles = await Promise.all(others.map(startManual));
  await Promise.all(others.map((w) => readyWithTemplates(w, 60_000)));
  // Each made the calls an unthrottled onboarding makes, and none was held back or retried.
  for (const w of others) expect(callsOf(w.id).length).toBe(callsPerOnboarding);
  const attempts = (await Promise.all(handles.map(activityAttempts))).flat();
  expect(attempts.length).toBeGreaterThanOrEqual(others.length * 2);
  expect(attempts.filter((a) => a > 1)).toEqual([]);
  expect(await gauge('mm_graph_allowed_calls_per_second')).toBe(MAX_RPS);

  // X's calls: it tries again once Meta's regain time is over (the others may all be READY sooner),
  // and never sooner than that after the one before.
  await eventually(async () => (callsOf(throttled.id).length >= 2 ? true : undefined), 30_000, "X's second call");
  const xCalls = callsOf(throttled.id);
  expect(xCalls.every((c) => c.faults?.includes('throttle'))).toBe(true);
  expect(Math.min(...gapsMs(xCalls))).toBeGreaterThanOrEqual(REGAIN_MINUTES * 60_000 - ARRIVAL_TOLERANCE_MS);
}, 120_000);

test('a business throttle that never clears parks its onboarding after a bounded number of Graph calls', async () => {
  const waba = onboardedWaba();
  world().injectFault({ businessId: waba.ownerBusinessId, kind: 'throttle', regainAccessMinutes: 0.02, times: Infinity });
  await startManual(waba);
  const parked = await h.stack.waitForStatus(waba.id, 'NEEDS_ATTENTION', 90_000);
  expect(parked.statusReason).toMatch(/too many calls|held back/i);
  const spent = callsOf(waba.id).length;
  expect(spent).toBeGreaterThanOrEqual(2);
  expect(spent).toBeLessThanOrEqual(ATTEMPTS_CEILING);
  // Parked, it reads nothing more while the throttle stays.
  await pause(3_000);
  expect(callsOf(waba.id).length).toBe(spent);
}, 120_000);

test("the app's throttling (X-App-Usage at 100 %) still slows every business's calls", async () => {
  world().usage.set({ appPercent: 100 });
  const first = onboardedWaba();
  await startManual(first);
  // Once an answer says the app's allowance is used up, the whole app trickles.
  await eventually(async () => ((await gauge('mm_graph_allowed_calls_per_second')) === TRICKLE_RPS ? true : undefined), 15_000, 'the trickle');
  const afterFirstAnswer = callsOf(first.id).length;
  const others = Array.from({ length: 3 }, () => onboardedWaba());
  await Promise.all(others.map(startManual));
  await Promise.all([first, ...others].map((w) => readyWithTemplates(w, 90_000)));

  // Every call of any business after the first answer waited its turn at the app's trickle: unpaced,
  // the four onboardings' calls would arrive tens of ms apart (GRAPH_MAX_RPS is 50).
  const paced = [...callsOf(first.id).slice(afterFirstAnswer), ...others.flatMap((w) => callsOf(w.id))];
  expect(paced.length).toBeGreaterThanOrEqual(others.length * 2);
  const gaps = gapsMs(paced);
  const paceMs = 1000 / TRICKLE_RPS;
  expect(Math.min(...gaps)).toBeGreaterThanOrEqual(paceMs * LOADED_MIN_GAP_SHARE);
  expect(gaps.reduce((a, b) => a + b, 0) / gaps.length).toBeGreaterThanOrEqual(paceMs - ARRIVAL_TOLERANCE_MS);
}, 120_000);
