import { FAST, startStack, type Stack } from '../harness/stack';

// One call a second: low enough that a Graph queue split into partitions shows (each partition
// bursts on its own: 4 partitions let 4 calls out at once, one partition 2).
const MAX_RPS = 1;
/**
 * Temporal's task queue rate limit (Server 1.32's matcher, service/matching/ratelimit_manager.go and
 * matcher_data.go) is a GCRA limiter at the rate with one second of burst: calls i..j (sorted) are
 * within it iff t[j] - t[i] >= (j - i) / rate - 1 s. So after a pause, rate + 1 calls at once, then one
 * every 1/rate, the (2 × rate + 1)-th exactly a second after the first.
 */
const BURST_MS = 1_000;
/**
 * The sandbox times a call when it arrives, its dispatch's latency later (worker poll, activity
 * start, HTTP): the first of a burst is the latest, by up to ~70 ms on a quiet machine and ~290 ms
 * beside two busy processes (calls after it a second apart to within 40 ms). A limiter that does not
 * hold is off by far more: two partitions double the rate (ten calls in ~4 s, not 8), four let four
 * out at once (1.75 s early); this only absorbs that measuring.
 */
const LATENCY_TOLERANCE_MS = 500;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { GRAPH_MAX_RPS: String(MAX_RPS) } });
});
afterAll(async () => {
  await stack?.stop();
});

test('Graph calls of many onboardings stay under GRAPH_MAX_RPS (the task queue rate limit)', async () => {
  const wabas = Array.from({ length: 10 }, () => stack.sandbox.world.createWaba({ onboardingStatus: 'ONBOARDED' }));
  await Promise.all(wabas.map((w) => stack.start({ wabaId: w.id, businessId: w.ownerBusinessId, path: 'manual', options: FAST })));
  await Promise.all(wabas.map((w) => stack.waitForStatus(w.id, 'READY', 60_000)));

  const ids = new Set(wabas.map((w) => w.id));
  const times = stack.sandbox.world
    .findCalls({ endpoint: 'waba_status' })
    .filter((c) => c.wabaId && ids.has(c.wabaId))
    .map((c) => Date.parse(c.at))
    .sort((a, b) => a - b);
  expect(times).toHaveLength(10);
  // Unthrottled, ten reads land within a few hundred ms. At 1/s, after a burst of two, the other
  // eight need eight seconds.
  expect(times[times.length - 1] - times[0]).toBeGreaterThanOrEqual(7_000);
  // No run of calls comes sooner than the rate and its one second of burst allow.
  const tooSoon: string[] = [];
  for (let i = 0; i < times.length; i++) {
    for (let j = i + 1; j < times.length; j++) {
      const earliest = ((j - i) * 1000) / MAX_RPS - BURST_MS - LATENCY_TOLERANCE_MS;
      if (times[j] - times[i] < earliest) tooSoon.push(`calls ${i}..${j}: ${times[j] - times[i]} ms apart, at least ${earliest} ms expected`);
    }
  }
  if (tooSoon.length) tooSoon.push(`call times, ms from the first: ${times.map((t) => t - times[0]).join(', ')}`);
  expect(tooSoon).toEqual([]);
}, 90_000);
