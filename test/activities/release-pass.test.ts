/**
 * A release's pass over the runs of older builds (activities/release.ts):
 * - it keeps heartbeating through one run's long proof, not only between paced runs: its history
 *   fetched, its replay on this build's code (seconds of CPU on a busy worker), the move confirmed. A
 *   pass that went quiet for the heartbeat timeout (1 minute) would be retried from the start;
 * - it acts only while its build is the deployment's current version. An older release still running
 *   when a newer build took over (seen beside a CPU hog in the release soak: C's release ended D's,
 *   and nothing deleted the retired versions) must neither end the newer release nor move the newer
 *   build's runs back onto its own.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import { createReleaseActivities, type ReplayProof } from '../../activities/release';

const target = { deploymentName: 'mm-onboarding', buildId: 'b2' };

const listed = (workflowId: string, type: string, buildId: string) => ({ workflowId, runId: `${workflowId}-run`, type, raw: { versioningInfo: { deploymentVersion: { buildId } } }, searchAttributes: {} });

/**
 * A client that lists `runs` (default: one onboarding of build b1, whose workers are gone), names
 * `current()` the deployment's current build, and sees a run on b2 once moved; `steps` records what
 * happened when.
 */
function fakeClient(steps: string[], { runs = [listed('mm-onboarding:waba-1', 'onboarding', 'b1')], current = () => target.buildId } = {}): Client {
  let moved = false;
  const handle = {
    fetchHistory: async () => {
      steps.push('history fetched');
      return { events: [] };
    },
    signal: async () => undefined,
    terminate: async () => {
      steps.push('terminated');
    },
    describe: async () => ({
      status: { name: 'RUNNING' },
      raw: { workflowExecutionInfo: { versioningInfo: { deploymentVersion: { buildId: moved ? target.buildId : 'b1' } } } },
    }),
  };
  return {
    workflowService: {
      describeWorkerDeployment: async () => ({
        workerDeploymentInfo: { routingConfig: { currentDeploymentVersion: { deploymentName: target.deploymentName, buildId: current() } } },
      }),
      updateWorkflowExecutionOptions: async () => {
        moved = true;
        steps.push('override set');
        return {};
      },
    },
    workflow: {
      list: async function* () {
        yield* runs;
      },
      getHandle: () => handle,
    },
  } as unknown as Client;
}

test('a pass heartbeats after the history fetch and after the replay of a run it proves, not only before the run', async () => {
  const steps: string[] = [];
  const slowReplay: ReplayProof = async () => {
    steps.push('replay started');
    await new Promise((r) => setTimeout(r, 50));
    steps.push('replay finished');
    return undefined;
  };
  const env = new MockActivityEnvironment();
  env.on('heartbeat', () => steps.push('heartbeat'));
  const { moveRunsOfOlderBuilds } = createReleaseActivities(fakeClient(steps), 'default', slowReplay);

  const outcome = await env.run(moveRunsOfOlderBuilds, { target, taskQueue: 'mm-onboarding', inPlace: true, ratePerSecond: 100, releaseWorkflowId: 'mm-release:x' });

  expect(outcome).toMatchObject({ found: 1, moved: 1, refused: 0 });
  const at = (step: string) => steps.indexOf(step);
  // One before the run (the pace), one between the fetch and the replay, one after the replay.
  expect(steps.slice(0, at('history fetched')).filter((s) => s === 'heartbeat')).toHaveLength(1);
  expect(steps.slice(at('history fetched'), at('replay started'))).toContain('heartbeat');
  expect(steps.slice(at('replay finished'), at('override set'))).toContain('heartbeat');
});

test("a release whose build is no longer current ends the newer build's release in no pass, and moves none of its runs back", async () => {
  const steps: string[] = [];
  const replay: ReplayProof = async () => undefined;
  const runs = [listed('mm-release:mm-onboarding:b3', 'release', 'b3'), listed('mm-onboarding:waba-2', 'onboarding', 'b3')];
  const { moveRunsOfOlderBuilds } = createReleaseActivities(fakeClient(steps, { runs, current: () => 'b3' }), 'default', replay);

  const outcome = await new MockActivityEnvironment().run(moveRunsOfOlderBuilds, { target, taskQueue: 'mm-onboarding', inPlace: true, ratePerSecond: 100, releaseWorkflowId: 'mm-release:mm-onboarding:b2' });

  expect(outcome).toMatchObject({ replacedBy: 'b3', superseded: 0, moved: 0 });
  expect(steps).not.toContain('terminated');
  expect(steps).not.toContain('override set');
});

test('a build that becomes current during a pass stops it before its next move or ending of a release', async () => {
  const steps: string[] = [];
  let current = target.buildId;
  // The first run's replay is where the newer build takes over.
  const replay: ReplayProof = async () => {
    current = 'b3';
    return undefined;
  };
  const runs = [listed('mm-onboarding:waba-1', 'onboarding', 'b1'), listed('mm-release:mm-onboarding:b3', 'release', 'b3')];
  const { moveRunsOfOlderBuilds } = createReleaseActivities(fakeClient(steps, { runs, current: () => current }), 'default', replay);

  const outcome = await new MockActivityEnvironment().run(moveRunsOfOlderBuilds, { target, taskQueue: 'mm-onboarding', inPlace: true, ratePerSecond: 100, releaseWorkflowId: 'mm-release:mm-onboarding:b2' });

  expect(outcome).toMatchObject({ replacedBy: 'b3', moved: 0, superseded: 0 });
  expect(steps).not.toContain('override set');
  expect(steps).not.toContain('terminated');
});
