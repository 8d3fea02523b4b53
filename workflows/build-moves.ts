/**
 * How a long-lived run reaches the workers' current build (docs/versioning.md). Runs are pinned to the
 * build they started on; the server tells a pinned run that a newer build is current only on the run's
 * next workflow task. So every waiting run gets one: a release wakes it with `wakeForNewBuildSignal`,
 * and, as a backstop, every wait ends at least every `wakeEverySeconds` (a week by default). Woken to
 * a new build, a run continues as new with AUTO_UPGRADE at its next safe point, and the next run starts
 * on the current build.
 */
import { makeContinueAsNewFunc, setHandler, workflowInfo, type Workflow } from '@temporalio/workflow';
import { wakeForNewBuildSignal } from './messages';

/** The backstop: no waiting run stays longer than this without a workflow task. */
export const DEFAULT_WAKE_EVERY_SECONDS = 7 * 24 * 3600;

/** The wake signal needs no state: its workflow task is the point. Registered so it is never buffered as unknown. */
export function listenForWakes(): void {
  setHandler(wakeForNewBuildSignal, () => undefined);
}

/** The server says a newer build than this run's is the deployment's current (or ramping) one. */
export function newBuildIsCurrent(): boolean {
  return workflowInfo().targetWorkerDeploymentVersionChanged === true;
}

/**
 * Time for this run to hand over to a new one: its history passed `maxEvents`, Temporal suggests a
 * new run, or a newer build is current. Each long-lived workflow checks it at its own safe points.
 */
export function timeForNewRun(maxEvents: number): boolean {
  const info = workflowInfo();
  return info.historyLength > maxEvents || info.continueAsNewSuggested || newBuildIsCurrent();
}

/**
 * Continues as new on the current build: AUTO_UPGRADE puts the next run on the deployment's target
 * version (without it, the next run would stay on this run's build), where it is pinned again. The
 * memo goes along as it is now: left out, the SDK would hand on the memo this run started with.
 */
export function continueOnCurrentBuild<W extends Workflow>(...args: Parameters<W>): Promise<never> {
  return makeContinueAsNewFunc<W>({ initialVersioningBehavior: 'AUTO_UPGRADE', memo: workflowInfo().memo })(...args);
}
