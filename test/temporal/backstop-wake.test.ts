/**
 * The backstop (workflows/build-moves.ts): with no release to wake them, waiting onboardings still
 * reach a new build, because no wait lasts longer than `wakeEverySeconds` without a workflow task.
 * Build B is made current beside A's running workers and nothing signals A's runs: those with a
 * 2-second backstop continue as new onto B by themselves; one with the default week stays on A.
 */
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../config';
import { createWorkers, type OnboardingWorkers } from '../../worker/worker';
import { FAST, startStack, testServiceEnv, WEBHOOK_ONLY, workflowBundle, type Stack } from '../harness/stack';
import { waitUntil } from '../harness/wait';
import { onboardingWorkflowId } from '../../workflows/types';

const tag = randomUUID().slice(0, 8);
const [BUILD_A, BUILD_B] = [`a-${tag}`, `b-${tag}`];
let stack: Stack;
let b: { workers: OnboardingWorkers; running: Promise<void> } | undefined;

beforeAll(async () => {
  stack = await startStack({ env: { TEMPORAL_WORKER_BUILD_ID: BUILD_A } });
}, 180_000);

afterAll(async () => {
  b?.workers.shutdown();
  await b?.running.catch(() => undefined);
  await stack?.stop();
});

const buildOfRun = async (wabaId: string) =>
  (await stack.client.workflow.getHandle(onboardingWorkflowId(wabaId)).describe()).raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId;

test('waiting onboardings move to a new current build by their backstop timer, without any wake signal', async () => {
  const world = stack.sandbox.world;
  const backstop = { wakeEverySeconds: 2 };
  const ready = world.createWaba({ onboardingStatus: 'ONBOARDED' });
  const terms = world.createWaba({ autoSign: false });
  const parked = world.createWaba({ phoneNumbers: 0 });
  const idle = world.createWaba({ onboardingStatus: 'ONBOARDED' });
  await stack.start({ wabaId: ready.id, businessId: ready.ownerBusinessId, path: 'manual', options: { ...FAST, ...backstop } });
  await stack.start({ wabaId: terms.id, businessId: terms.ownerBusinessId, path: 'manual', options: { ...WEBHOOK_ONLY, ...backstop } });
  await stack.start({ wabaId: parked.id, businessId: parked.ownerBusinessId, path: 'manual', options: { ...WEBHOOK_ONLY, ...backstop } });
  await stack.start({ wabaId: idle.id, businessId: idle.ownerBusinessId, path: 'manual', options: FAST });
  await stack.waitForStatus(ready.id, 'READY');
  await stack.waitForStatus(terms.id, 'AWAITING_TERMS');
  await stack.waitForStatus(parked.id, 'NEEDS_ATTENTION');
  await stack.waitForStatus(idle.id, 'READY');

  const config = loadConfig(
    testServiceEnv(
      { temporalAddress: process.env.TEMPORAL_TEST_ADDRESS!, taskQueue: stack.config.temporal.taskQueue, graphUrl: stack.sandboxUrl },
      { GRAPH_MAX_RPS: '1000', TEMPORAL_WORKER_BUILD_ID: BUILD_B },
    ),
  );
  const workers = await createWorkers(config, stack.workerConnection, stack.client, { workflowBundle: await workflowBundle(), shutdownGraceTime: '1s' });
  b = { workers, running: workers.run() };
  await workers.makeCurrent(); // current, but no release: nothing wakes A's runs

  for (const waba of [ready, terms, parked]) {
    await waitUntil(async () => (await buildOfRun(waba.id)) === BUILD_B, 30_000, `WABA ${waba.id} on ${BUILD_B}`);
  }
  expect((await stack.state(ready.id)).status).toBe('READY');
  expect((await stack.state(terms.id)).status).toBe('AWAITING_TERMS');
  expect((await stack.state(parked.id)).status).toBe('NEEDS_ATTENTION');
  // The default backstop is a week away: that run is still on A (A's workers still answer for it).
  expect(await buildOfRun(idle.id)).toBe(BUILD_A);
  expect((await stack.state(idle.id)).status).toBe('READY');
}, 120_000);
