/**
 * A run that reaches an older build after the release's passes found none (started in the moment the
 * new build became current, before every task queue partition heard; or listed late by visibility)
 * is still brought onto the new build: the release looks again before each retry of its deletions,
 * instead of leaving the run on a version its workers are about to leave.
 *
 * Staged exactly: once B's release is deleting versions, a run is started pinned to A (A's workers
 * still poll, side by side); once it waits for the terms there A's workers stop and the run's override is
 * cleared: from then on it is an ordinary run of A, as if it had started there a moment too late,
 * and with no worker of A it cannot move itself.
 */
import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { loadConfig } from '../../config';
import { createWorkers, type OnboardingWorkers } from '../../worker/worker';
import { startStack, testServiceEnv, WEBHOOK_ONLY, workflowBundle, type Stack } from '../harness/stack';
import { eventually } from '../harness/wait';
import { RELEASES_NAMESPACE } from '../harness/limits';
import { getReleaseStateQuery } from '../../workflows/messages';
import { releaseWorkflowId } from '../../workflows/release-types';
import { onboardingStartOptions } from '../../workflows/start-options';

const RELEASE_ENV = { TEMPORAL_NAMESPACE: RELEASES_NAMESPACE, TEMPORAL_RELEASE_RATE: '100' };
const tag = randomUUID().slice(0, 8);
const BUILD_A = `late-a-${tag}`;
const BUILD_B = `late-b-${tag}`;

let stack: Stack;
let b: { workers: OnboardingWorkers; running: Promise<void> } | undefined;

beforeAll(async () => {
  stack = await startStack({ env: { ...RELEASE_ENV, TEMPORAL_WORKER_BUILD_ID: BUILD_A } });
}, 180_000);

afterAll(async () => {
  b?.workers.shutdown();
  await b?.running.catch(() => undefined);
  await stack?.stop();
});

test("a run that lands on the old build after the release's last pass is moved by the release's next look, not left there", async () => {
  const deploymentName = stack.config.temporal.deployment.name;
  const config = loadConfig(
    testServiceEnv(
      { temporalAddress: process.env.TEMPORAL_TEST_ADDRESS!, taskQueue: stack.config.temporal.taskQueue, graphUrl: stack.sandboxUrl },
      { GRAPH_MAX_RPS: '1000', ...RELEASE_ENV, TEMPORAL_WORKER_BUILD_ID: BUILD_B },
    ),
  );
  const workers = await createWorkers(config, stack.workerConnection, stack.client, { workflowBundle: await workflowBundle(), shutdownGraceTime: '1s' });
  b = { workers, running: workers.run() };
  // A keeps polling (side by side) until the late run has started there.
  await workers.takeOver({ release: { passIntervalSeconds: 1, deleteIntervalSeconds: 2, maxDeleteTries: 40 } });
  const release = stack.client.workflow.getHandle(releaseWorkflowId({ deploymentName, buildId: BUILD_B }));
  await eventually(async () => ((await release.query(getReleaseStateQuery)).status === 'DELETING_VERSIONS' ? true : undefined), 60_000, "the release's passes done");

  // A run of A, a moment too late.
  const waba = stack.sandbox.world.createWaba({ autoSign: false });
  const run = await stack.client.workflow.start('onboarding', {
    ...onboardingStartOptions({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY }, stack.config),
    versioningOverride: { pinnedTo: { deploymentName, buildId: BUILD_A } },
  });
  const versioning = async () => (await run.describe()).raw.workflowExecutionInfo?.versioningInfo;
  await eventually(async () => ((await versioning())?.deploymentVersion?.buildId === BUILD_A ? true : undefined), 30_000, 'its first task on A');
  // Waiting for the terms on A, no activity of it in flight: then A's workers stop.
  await stack.waitForStatus(waba.id, 'AWAITING_TERMS');
  await stack.stopWorkers();
  await stack.client.workflowService.updateWorkflowExecutionOptions({
    namespace: stack.config.temporal.namespace,
    workflowExecution: { workflowId: run.workflowId },
    workflowExecutionOptions: { versioningOverride: null as unknown as temporal.api.workflow.v1.IVersioningOverride },
    updateMask: { paths: ['versioning_override'] },
  });
  await eventually(async () => ((await versioning())?.versioningOverride ? undefined : true), 10_000, 'the override cleared');

  // The release's next look brings it onto B, where it goes on.
  const onB = await eventually(
    async () => {
      const info = (await stack.client.workflow.getHandle(run.workflowId).describe()).raw.workflowExecutionInfo?.versioningInfo;
      return info?.deploymentVersion?.buildId === BUILD_B ? info : undefined;
    },
    45_000,
    `the late run on ${BUILD_B}`,
  ).catch(async (err: Error) => {
    throw new Error(`${err.message}; release: ${JSON.stringify(await release.query(getReleaseStateQuery))}`);
  });
  expect(onB.versioningOverride ?? undefined).toBeUndefined();
  // Found by a look after the first pass (which found none), and moved: the pass lands in the state as it returns.
  const state = await eventually(async () => {
    const s = await release.query(getReleaseStateQuery);
    return s.passes.length > 1 ? s : undefined;
  }, 20_000, "the release's later look in its state");
  expect(state.passes[0].found).toBe(0);
  expect(state.passes.slice(1)).toContainEqual(expect.objectContaining({ found: 1, moved: 1 }));
  expect((await stack.state(waba.id)).status).toBe('AWAITING_TERMS');
}, 240_000);
