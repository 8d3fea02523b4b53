import { FAST, startStack, type Stack } from '../harness/stack';

const MAX_RPS = 2;
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
  // Unthrottled, ten reads land within a few hundred ms. At 2/s, after a burst of at most a couple,
  // the other eight need about four seconds; 2.5 s leaves room for the limiter's own slack.
  expect(times[times.length - 1] - times[0]).toBeGreaterThanOrEqual(2_500);
  // No one-second window holds more than the rate plus the burst.
  for (const t of times) expect(times.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(2 * MAX_RPS);
}, 90_000);
