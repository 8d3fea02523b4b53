/**
 * The proof a release needs before it moves a run of a replaced build onto this one (activities/release.ts):
 * the run's own history replays on this build's workflow code without a nondeterminism error (the
 * SDK's replayer, as test/workflows/replay.test.ts uses it on recorded histories).
 */
import { bundleWorkflowCode, DefaultLogger, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import type { ReplayProof } from '../activities/release';
import { workflowBundleOptions } from './workflow-bundle';

/** Where this build's workflow code is: the workers' own bundle, or (development) the source, bundled once on first use. */
export type WorkflowCode = { workflowBundle: WorkflowBundleOption } | { workflowsPath: string };

export function replayProof(code: WorkflowCode): ReplayProof {
  let bundle: Promise<WorkflowBundleOption> | undefined;
  const workflowBundle = () =>
    (bundle ??=
      'workflowBundle' in code
        ? Promise.resolve(code.workflowBundle)
        : bundleWorkflowCode({ ...workflowBundleOptions, workflowsPath: code.workflowsPath, logger: new DefaultLogger('WARN') }));
  return async (workflowId, history) => {
    try {
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId);
      return undefined;
    } catch (err) {
      return err instanceof Error ? `${err.name}: ${err.message.split('\n')[0]}` : String(err);
    }
  };
}
