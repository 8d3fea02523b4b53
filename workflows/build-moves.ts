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
 * How long one run's history may grow before the run hands over to a new one at its next safe point.
 * Every query, update or signal to a run the workers' cache has evicted replays its whole history,
 * so a long-lived run keeps its history short (docs/operations.md, "Bounded histories").
 */
export interface HistoryBound {
  /** History events. */
  events: number;
  /**
   * History bytes this run has written: what it was handed over (its input, in its first event) is
   * not counted, so a large carried state cannot make every new run move on at once.
   */
  bytes?: number;
}

/** The history's size in bytes at this run's first task, its input included: where `HistoryBound.bytes` counts from. */
export function historyBytesNow(): number {
  return workflowInfo().historySize;
}

/**
 * Time for this run to hand over to a new one: its history passed `bound` (bytes counted from
 * `startBytes`), Temporal suggests a new run, or a newer build is current. Each long-lived workflow
 * checks it at its own safe points.
 */
export function timeForNewRun(bound: HistoryBound, startBytes = 0): boolean {
  const info = workflowInfo();
  // historySize is 0 from a server before 1.20: only the event count bounds the run then.
  const written = info.historySize > 0 ? info.historySize - startBytes : 0;
  return info.historyLength > bound.events || written > (bound.bytes ?? Infinity) || info.continueAsNewSuggested || newBuildIsCurrent();
}

/**
 * Continues as new on the current build: AUTO_UPGRADE puts the next run on the deployment's target
 * version (without it, the next run would stay on this run's build), where it is pinned again. The
 * memo goes along as it is now: left out, the SDK would hand on the memo this run started with.
 */
export function continueOnCurrentBuild<W extends Workflow>(...args: Parameters<W>): Promise<never> {
  return makeContinueAsNewFunc<W>({ initialVersioningBehavior: 'AUTO_UPGRADE', memo: workflowInfo().memo })(...args);
}
