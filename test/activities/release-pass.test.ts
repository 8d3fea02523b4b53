/**
 * A release's pass over the runs of older builds (activities/release.ts) keeps heartbeating through one
 * run's long proof, not only between paced runs: its history fetched, its replay on this build's code
 * (seconds of CPU on a busy worker), the move confirmed. A pass that went quiet for the heartbeat
 * timeout (1 minute) would be retried from the start, again and again, and never finish on a loaded
 * worker.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import { createReleaseActivities, type ReplayProof } from '../../activities/release';

const target = { deploymentName: 'mm-onboarding', buildId: 'b2' };

/** A client that lists one run of build b1 (no workers left) and sees it on b2 once moved; `steps` records what happened when. */
function fakeClient(steps: string[]): Client {
  const run = { workflowId: 'mm-onboarding:waba-1', runId: 'r1', type: 'onboarding', raw: { versioningInfo: { deploymentVersion: { buildId: 'b1' } } }, searchAttributes: {} };
  let moved = false;
  const handle = {
    fetchHistory: async () => {
      steps.push('history fetched');
      return { events: [] };
    },
    signal: async () => undefined,
    describe: async () => ({
      status: { name: 'RUNNING' },
      raw: { workflowExecutionInfo: { versioningInfo: { deploymentVersion: { buildId: moved ? target.buildId : 'b1' } } } },
    }),
  };
  return {
    workflowService: {
      updateWorkflowExecutionOptions: async () => {
        moved = true;
        steps.push('override set');
        return {};
      },
    },
    workflow: {
      list: async function* () {
        yield run;
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
