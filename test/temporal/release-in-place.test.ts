/**
 * A build replaced in place (docs/versioning.md): build A's workers are gone, as after `npm start` on
 * a new commit, and build B (the same workflow code under another build id) takes over. B proves each
 * of A's open runs replays on its code and moves it; none is left on A, the runs answer and go on
 * (a terms signal takes a WABA to READY, the business's Intent request is not sent again), and A's
 * version, drained and unpolled, is deleted. Build C, whose workflow code issues a command A's never
 * did (test/temporal/fixtures/build-b-workflows.ts), refuses to replace B in place.
 */
import { randomUUID } from 'node:crypto';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { loadConfig } from '../../config';
import { createWorkers, type OnboardingWorkers } from '../../worker/worker';
import { ReleaseRefused } from '../../worker/release';
import { FAST, startStack, testServiceEnv, WEBHOOK_ONLY, workflowBundle, type Stack } from '../harness/stack';
import { eventually, waitUntil } from '../harness/wait';
import { RELEASES_NAMESPACE } from '../harness/limits';
import { termsSignedSignal } from '../../workflows/messages';
import { businessIntentWorkflowId, onboardingWorkflowId } from '../../workflows/types';
import { getReleaseStateQuery } from '../../workflows/messages';
import { releaseWorkflowId } from '../../workflows/release-types';

/** The releases' own namespace (test/harness/limits.ts), and a release pace for seconds-long tests. */
const RELEASE_ENV = { TEMPORAL_NAMESPACE: RELEASES_NAMESPACE, TEMPORAL_RELEASE_RATE: '100' };
const tag = randomUUID().slice(0, 8);
const BUILD_A = `a-${tag}`;
const BUILD_B = `b-${tag}`;
const BUILD_C = `c-${tag}`;

let stack: Stack;
let deploymentName: string;
const extraWorkers: Array<{ workers: OnboardingWorkers; running: Promise<void> }> = [];

beforeAll(async () => {
  stack = await startStack({ env: { ...RELEASE_ENV, TEMPORAL_WORKER_BUILD_ID: BUILD_A } });
  deploymentName = stack.config.temporal.deployment.name;
}, 180_000);

afterAll(async () => {
  for (const { workers, running } of extraWorkers) {
    workers.shutdown();
    await running.catch(() => undefined);
  }
  await stack?.stop();
});

async function startBuild(buildId: string, bundle = workflowBundle()): Promise<OnboardingWorkers> {
  const config = loadConfig(
    testServiceEnv(
      { temporalAddress: process.env.TEMPORAL_TEST_ADDRESS!, taskQueue: stack.config.temporal.taskQueue, graphUrl: stack.sandboxUrl },
      { GRAPH_MAX_RPS: '1000', ...RELEASE_ENV, TEMPORAL_WORKER_BUILD_ID: buildId },
    ),
  );
  const workers = await createWorkers(config, stack.workerConnection, stack.client, { workflowBundle: await bundle, shutdownGraceTime: '1s' });
  extraWorkers.push({ workers, running: workers.run() });
  return workers;
}

const openRunsOn = async (buildId: string) =>
  (await stack.client.workflow.count(`ExecutionStatus = "Running" AND TemporalWorkerDeploymentVersion = "${deploymentName}:${buildId}"`)).count;

const wabas = {} as Record<'ready' | 'awaitingTerms' | 'intent' | 'parked', { id: string; business: string }>;

test('build B replaces build A in place: every open run of A moves onto B and goes on there', async () => {
  const start = async (key: keyof typeof wabas, waba: ReturnType<Stack['sandbox']['world']['createWaba']>, path: 'manual' | 'intent', options: object) => {
    wabas[key] = { id: waba.id, business: waba.ownerBusinessId };
    await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path, options });
  };
  const world = stack.sandbox.world;
  await start('ready', world.createWaba({ onboardingStatus: 'ONBOARDED' }), 'manual', FAST);
  await start('awaitingTerms', world.createWaba({ autoSign: false }), 'manual', WEBHOOK_ONLY);
  await start('intent', world.createWaba({ autoSign: false }), 'intent', WEBHOOK_ONLY);
  await start('parked', world.createWaba({ phoneNumbers: 0 }), 'manual', WEBHOOK_ONLY);
  await stack.waitForStatus(wabas.ready.id, 'READY');
  await stack.waitForStatus(wabas.awaitingTerms.id, 'AWAITING_TERMS');
  await stack.waitForStatus(wabas.intent.id, 'AWAITING_TERMS');
  await stack.waitForStatus(wabas.parked.id, 'NEEDS_ATTENTION');
  expect(world.intentRequestCount(wabas.intent.business)).toBe(1);
  const onA = await openRunsOn(BUILD_A);
  expect(onA).toBeGreaterThanOrEqual(5); // the four onboardings and the business's Intent workflow

  // A's workers are gone; B starts and takes over.
  await stack.stopWorkers();
  const tookOverAt = Date.now();
  const b = await startBuild(BUILD_B);
  await b.takeOver({ release: { passIntervalSeconds: 2, deleteIntervalSeconds: 3, maxDeleteTries: 40 } });
  await waitUntil(async () => (await openRunsOn(BUILD_A)) === 0, 120_000, 'no open run left on build A');
  // eslint-disable-next-line no-console
  console.log(`in place: ${onA} open runs of A moved onto B within ${((Date.now() - tookOverAt) / 1000).toFixed(1)} s`);

  // B answers for them, and they go on on B.
  expect((await stack.state(wabas.ready.id)).status).toBe('READY');
  expect((await stack.state(wabas.parked.id)).status).toBe('NEEDS_ATTENTION');
  await stack.client.workflow.getHandle(onboardingWorkflowId(wabas.awaitingTerms.id)).signal(termsSignedSignal, { source: 'webhook' });
  await stack.waitForStatus(wabas.awaitingTerms.id, 'READY');
  const sibling = world.createWaba({ autoSign: false, ownerBusinessId: wabas.intent.business });
  await stack.start({ wabaId: sibling.id, businessId: sibling.ownerBusinessId, path: 'intent', options: WEBHOOK_ONLY });
  await stack.waitForStatus(sibling.id, 'AWAITING_TERMS');
  expect(world.intentRequestCount(wabas.intent.business)).toBe(1); // the moved business workflow still knows its request stands
  for (const id of [onboardingWorkflowId(wabas.ready.id), businessIntentWorkflowId(wabas.intent.business)]) {
    const info = (await stack.client.workflow.getHandle(id).describe()).raw.workflowExecutionInfo?.versioningInfo;
    expect(info?.deploymentVersion?.buildId).toBe(BUILD_B);
    expect(info?.versioningOverride ?? undefined).toBeUndefined(); // pinned to B as if it had started there
  }

  // A, drained and no longer polled, is deleted by B's release.
  const releaseState = await eventually(async () => {
    const s = await stack.client.workflow.getHandle(releaseWorkflowId({ deploymentName, buildId: BUILD_B })).query(getReleaseStateQuery);
    return s.deleted.includes(`${deploymentName}:${BUILD_A}`) ? s : undefined;
  }, 150_000, `the release of ${BUILD_B} deleting ${BUILD_A}`);
  expect(releaseState.passes[0]).toMatchObject({ refused: 0 });
  expect(releaseState.passes[0].moved).toBeGreaterThanOrEqual(5);
}, 400_000);

test('build C, whose workflow code A\'s and B\'s histories do not replay on, refuses to replace B in place', async () => {
  const fixture = require.resolve('./fixtures/build-b-workflows');
  const bundleC = bundleWorkflowCode({ workflowsPath: fixture, preloadModules: [fixture], logger: new DefaultLogger('WARN') });
  const c = await startBuild(BUILD_C, bundleC);
  const refusal = await c.takeOver({ inPlace: true }).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(refusal).toBeInstanceOf(ReleaseRefused);
  expect(String((refusal as Error).message)).toMatch(/will not replace .* in place: \d+ of \d+ open run\(s\) checked do not replay.*Roll out side by side/);
  // B stays current; its runs stay on B.
  expect(await openRunsOn(BUILD_C)).toBe(0);
  expect((await stack.state(wabas.ready.id)).status).toBe('READY');
}, 120_000);
