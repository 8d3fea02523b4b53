/**
 * A release's vocabulary (docs/versioning.md), defined once. Pure: imported by the release workflow,
 * its activities, the worker that starts it and the release script alike.
 */

/** The workflow type of a release run: one per deployment version, id `mm-release:<deployment>:<build>`. */
export const RELEASE_WORKFLOW_TYPE = 'release';

export interface ReleaseTarget {
  deploymentName: string;
  buildId: string;
}

export const releaseWorkflowId = (t: ReleaseTarget) => `mm-release:${t.deploymentName}:${t.buildId}`;

export interface ReleaseInput {
  /** The build the runs move to: the deployment's current version when the release starts. */
  target: ReleaseTarget;
  /** The workflow task queue the deployment's workers poll (their pollers tell which builds still run). */
  taskQueue: string;
  /**
   * Known to replace the older builds in place (`npm start`: their workers are gone, whatever the
   * server still remembers of their polls): every run is moved by a replay proof. Otherwise runs whose
   * build still has workers polling are woken to move by themselves, the others are moved by a proof.
   */
  inPlace: boolean;
  /** Runs woken or moved per second, at most. */
  ratePerSecond: number;
  /** Passes over the runs left on older builds, at most (runs woken in one pass move within seconds). */
  maxPasses?: number;
  /** Between passes. */
  passIntervalSeconds?: number;
  /** Tries to delete retired versions (pollers are remembered for minutes after workers stop), at most. */
  maxDeleteTries?: number;
  deleteIntervalSeconds?: number;
}

export interface MoveRunsInput extends Pick<ReleaseInput, 'target' | 'taskQueue' | 'inPlace' | 'ratePerSecond'> {
  /** This release's own run, never moved by itself. */
  releaseWorkflowId: string;
}

/** One pass over the runs of older builds. */
export interface MoveRunsOutcome {
  /** Open runs of the deployment on another version when the pass listed them. */
  found: number;
  /** Woken on a build that still has workers, to continue as new onto the current build themselves. */
  woken: number;
  /** Woken runs that did so (the others were proven and moved like the rest, or refused). */
  movedThemselves: number;
  /** Proven to replay on this build and moved onto it. */
  moved: number;
  /** Proven and given the move, but their first task here had not completed when the pass checked. */
  notYetMoved: number;
  /** Their history does not replay on this build: left on their build (named in refusedRuns). */
  refused: number;
  /** Older release runs, ended: this release replaces them. */
  superseded: number;
  /** Closed before the pass reached them. */
  gone: number;
  refusedRuns: string[];
  /**
   * The build that became the deployment's current version instead of this release's target: the pass
   * stopped there, before touching a run of that build, and the release ends (REPLACED).
   */
  replacedBy?: string;
}

export interface RetiredVersions {
  deleted: string[];
  /** Versions kept, each with why (current, draining, pollers seen lately ...). */
  kept: string[];
}

export interface ReleaseState {
  target: ReleaseTarget;
  inPlace: boolean;
  /** REPLACED: another build became current; its own release moves the runs and deletes the versions. */
  status: 'MOVING_RUNS' | 'DELETING_VERSIONS' | 'DONE' | 'REPLACED';
  passes: MoveRunsOutcome[];
  /** Runs left on older builds after the last pass (refused ones included). */
  left: number;
  deleted: string[];
  kept: string[];
  startedAt: string;
  finishedAt?: string;
  /** The build whose release took over (status REPLACED). */
  replacedBy?: string;
}
