/**
 * How a discovery ends when it does not complete by itself, and what it counts when Meta's pages
 * overlap: cancelled → CANCELLED with its counts, terminated → TERMINATED (not RUNNING), each WABA id
 * counted once. On the real dev server and the sandbox; read through the API.
 */
import type { DiscoveryInput, DiscoveryState } from '../../../workflows/discovery-types';
import { discoveryStartOptions } from '../../../workflows/start-options';
import { eventually, FAST, startAppHarness, type AppHarness } from '../../harness/app-harness';

let h: AppHarness;
const world = () => h.stack.sandbox.world;

beforeAll(async () => {
  h = await startAppHarness();
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

const get = async (id: string) => (await h.http().get(`/v1/discoveries/${id}`).set(h.auth)).body as DiscoveryState;

/** A portfolio of `n` ELIGIBLE WABAs, discovered `pageSize` at a time (the API's POST always asks for 100). */
async function discover(n: number, pageSize: number) {
  const partner = world().createBusiness();
  const owner = world().createBusiness();
  const wabas = Array.from({ length: n }, () => world().createWaba({ autoSign: false, partnerBusinessId: partner.id, ownerBusinessId: owner.id }));
  const input: DiscoveryInput = { businessId: partner.id, path: 'manual', options: FAST, pageSize };
  return { partner, wabas, input };
}

async function startDiscovery(input: DiscoveryInput) {
  return h.stack.client.workflow.start('discovery', { ...discoveryStartOptions(input), taskQueue: h.stack.config.temporal.taskQueue });
}

/**
 * Started, and stuck on its second page (the first one read and its onboardings started). Both
 * faults are in place before the start: the first page passes at once (the first matching fault, used
 * up by it), every later one is held, so the discovery cannot finish before the test acts on it.
 */
async function stuckOnSecondPage() {
  const { partner, input } = await discover(6, 2);
  world().injectFault({ endpoint: 'client_wabas', businessId: partner.id, kind: 'latency', latencyMs: 0, times: 1 });
  world().injectFault({ endpoint: 'client_wabas', businessId: partner.id, kind: 'latency', latencyMs: 15_000, times: Infinity });
  const handle = await startDiscovery(input);
  await eventually(async () => ((await get(handle.workflowId)).pages >= 1 ? true : undefined), 20_000, 'the first page');
  return handle;
}

test('a cancelled discovery ends CANCELLED with the counts it had reached, not FAILED', async () => {
  const handle = await stuckOnSecondPage();
  const before = await get(handle.workflowId);
  await handle.cancel();

  const ended = await eventually(async () => {
    const state = await get(handle.workflowId);
    return state.status !== 'RUNNING' ? state : undefined;
  }, 20_000, 'the discovery to end');
  expect(ended).toMatchObject({ status: 'CANCELLED', completedAt: expect.any(String) });
  // The pages read before the cancel (a page already in flight may have landed), each counted.
  expect(ended.found).toBeGreaterThanOrEqual(before.found);
  expect(ended.found).toBe(ended.pages * 2);
  expect(ended.started).toBe(ended.found);
  expect(ended.error).toMatch(/cancelled/);
  world().clearFaults();
});

test('a terminated discovery is answered TERMINATED, read from its execution status, never RUNNING', async () => {
  const handle = await stuckOnSecondPage();
  await handle.terminate('an operator stopped it');

  const state = await get(handle.workflowId);
  expect(state.status).toBe('TERMINATED');
  expect(state.found).toBeGreaterThanOrEqual(2);
  world().clearFaults();
});

test("a Graph whose pages overlap (a slipped cursor) counts and starts each WABA once", async () => {
  const { partner, wabas, input } = await discover(4, 2);
  world().injectFault({ endpoint: 'client_wabas', businessId: partner.id, kind: 'slipped_cursor', times: Infinity });
  const handle = await startDiscovery(input);

  const done = await eventually(async () => {
    const state = await get(handle.workflowId);
    return state.status === 'COMPLETED' ? state : undefined;
  }, 30_000, 'the discovery to complete');
  world().clearFaults();
  // Meta listed 6 rows for the 4 WABAs (pages [1,2], [2,3], [3,4]).
  expect(done.pages).toBe(3);
  expect(done).toMatchObject({ found: 4, started: 4, alreadyRunning: 0, failed: 0 });
  for (const waba of wabas) await h.stack.waitForStatus(waba.id, 'AWAITING_TERMS');
});
