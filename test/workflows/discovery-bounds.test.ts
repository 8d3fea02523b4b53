import { startStack, WEBHOOK_ONLY, type Stack } from '../harness/stack';
import { runSizes } from '../harness/history-sizes';
import { discoveryStartOptions } from '../../workflows/start-options';
import { newDiscoveryState, type DiscoveryInput, type DiscoveryState } from '../../workflows/discovery-types';

/** What a discovery carries from run to run stays the same few KB however many WABAs its portfolio lists. */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const world = () => stack.sandbox.world;

function startDiscovery(input: Omit<DiscoveryInput, 'path'>) {
  return stack.client.workflow.start('discovery', {
    ...discoveryStartOptions({ path: 'manual', options: WEBHOOK_ONLY, ...input }),
    taskQueue: stack.config.temporal.taskQueue,
  });
}

/** A partner portfolio listing these client WABAs, in order; `eligible(i)` says which are ELIGIBLE. */
function portfolio(count: number, eligible: (i: number) => boolean) {
  const partner = world().createBusiness();
  const owner = world().createBusiness();
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const yes = eligible(i);
    // No numbers for those never listed (the list filters on ELIGIBLE): 200k WABAs in little memory.
    const waba = world().createWaba({ partnerBusinessId: partner.id, ownerBusinessId: owner.id, onboardingStatus: yes ? 'ELIGIBLE' : 'ONBOARDED', ...(yes ? {} : { phoneNumbers: [] }) });
    if (yes) ids.push(waba.id);
  }
  return { partner, owner, eligible: ids };
}

const MB = 1024 * 1024;

test('a discovery listing 200,000 client WABAs completes, carrying the same few KB from run to run', async () => {
  const LISTED = 200_000;
  const EVERY = 1_000; // 200 ELIGIBLE, one in every tenth page: the rest start nothing
  const { partner, eligible } = portfolio(LISTED, (i) => i % EVERY === EVERY - 1);
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let heapPeak = heapBefore;
  const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 250);

  const started = Date.now();
  const handle = await startDiscovery({ businessId: partner.id });
  let result: DiscoveryState;
  try {
    result = await handle.result();
  } finally {
    clearInterval(sampler);
  }
  const seconds = (Date.now() - started) / 1000;
  expect(result).toMatchObject({ status: 'COMPLETED', pages: LISTED / 100, found: eligible.length, started: eligible.length, alreadyRunning: 0, failed: 0 });

  const runs = await runSizes(stack.client, handle.workflowId, handle.firstExecutionRunId, 1_000);
  const handedOver = runs.flatMap((r) => (r.handedOverBytes === undefined ? [] : [r.handedOverBytes]));
  const largest = Math.max(...handedOver);
  console.log(
    `discovery of ${LISTED} client WABAs (${eligible.length} ELIGIBLE): ${seconds.toFixed(1)} s, ${runs.length} runs; ` +
      `largest continue-as-new payload ${largest} bytes (first ${handedOver[0]}); ` +
      `largest run ${Math.max(...runs.map((r) => r.events))} events / ${Math.max(...runs.map((r) => r.bytes))} bytes; ` +
      `this process's heap (sandbox, workers and client) peaked ${((heapPeak - heapBefore) / MB).toFixed(1)} MB above its start`,
  );
  expect(handedOver.length).toBeGreaterThan(10);
  // Every id listed (the earlier carry-over) would grow by ~19 bytes per ELIGIBLE WABA: 3.8 KB here, 1.9 MB at 100k.
  expect(largest - handedOver[0]).toBeLessThan(256);
  expect(largest).toBeLessThan(4 * 1024);
}, 600_000);

test("a run handed over by an earlier build, with every id it listed (`seen`), goes on from it and counts none twice", async () => {
  const { partner, eligible } = portfolio(4, () => true);
  const [a, b] = eligible;
  // An earlier build's hand-over: two WABAs listed and started, the list to be read again from the start.
  const state = { ...newDiscoveryState({ businessId: partner.id, path: 'manual' }, new Date().toISOString()), pages: 1, found: 2, started: 2 };
  for (const id of [a, b]) await stack.start({ wabaId: id, businessId: world().waba(id).ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY });
  const handle = await startDiscovery({ businessId: partner.id, pageSize: 2, carriedOver: { state, seen: ['100000000000000', a, b] } });
  const result: DiscoveryState = await handle.result();
  expect(result).toMatchObject({ status: 'COMPLETED', pages: 3, found: 4, started: 4, alreadyRunning: 0, failed: 0 });
});

test('pages that overlap (a slipped cursor) count each WABA once, across continue-as-new too', async () => {
  // Pages of 2 that advance by 1: 30 pages, each starting one onboarding, write more events than
  // this server's continue-as-new suggestion, so the overlap spans a hand-over.
  const { partner, eligible } = portfolio(30, () => true);
  world().injectFault({ endpoint: 'client_wabas', businessId: partner.id, kind: 'slipped_cursor', times: Infinity });
  try {
    const handle = await startDiscovery({ businessId: partner.id, pageSize: 2 });
    const result: DiscoveryState = await handle.result();
    expect(result).toMatchObject({ status: 'COMPLETED', pages: 29, found: eligible.length, started: eligible.length, alreadyRunning: 0, failed: 0 });
    const runs = await runSizes(stack.client, handle.workflowId, handle.firstExecutionRunId);
    expect(runs.length).toBeGreaterThan(1);
  } finally {
    world().clearFaults();
  }
}, 120_000);
