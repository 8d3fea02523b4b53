/**
 * What a release does to the runs of older builds (docs/versioning.md, workflows/release.ts): every
 * open run of the deployment pinned to an older build is woken at a bounded rate, and
 * - a run whose build still has workers (a rollout side by side) continues as new onto the current
 *   build at its next safe point, by itself (workflows/build-moves.ts);
 * - a run whose build has no workers (replaced in place: `npm start` on a new commit, a rebuilt stack)
 *   is moved only when its own history replays cleanly on this build's workflow code: a one-time
 *   versioning override routes its next workflow task here, after which it is pinned here as if it
 *   had started here. A run that does not replay stays where it is, named in the outcome.
 * Drained versions nobody polls any more are deleted, so a deployment never nears its version limit.
 */
import { Context } from '@temporalio/activity';
import { isGrpcServiceError, WorkflowNotFoundError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { wakeForNewBuildSignal } from '../workflows/messages';
import { buildPolls, taskQueueWorkers } from '../temporal/run-build';
import { currentVersion, versionLabel } from '../temporal/deployment-version';
import { RELEASE_WORKFLOW_TYPE, type MoveRunsInput, type MoveRunsOutcome, type RetiredVersions, type ReleaseTarget } from '../workflows/release-types';

const { VersioningOverride } = temporal.api.workflow.v1;
const { WorkerDeploymentVersionStatus } = temporal.api.enums.v1;

/** Proves a run's history replays on this build's workflow code: undefined when it does, else why not. */
export type ReplayProof = (workflowId: string, history: temporal.api.history.v1.IHistory) => Promise<string | undefined>;

/** How long a moved run gets for its first workflow task on this build before it counts as not moved yet. */
const MOVE_CONFIRM_MS = 10_000;
/** Runs named in an outcome, at most. */
const EXAMPLES = 10;
/** A woken run whose workers run continues as new within moments; one still there this much later is moved. */
const WAKE_GRACE_MS = 5_000;
/** Woken runs held for that check at once. */
const WOKEN_BATCH = 100;

/** The visibility query for the open runs of the deployment that are not on `target`. */
export function runsOnOlderBuildsQuery(target: ReleaseTarget): string {
  const q = (s: string) => JSON.stringify(s);
  return `ExecutionStatus = "Running" AND TemporalWorkerDeployment = ${q(target.deploymentName)} AND TemporalWorkerDeploymentVersion != ${q(versionLabel(target))}`;
}

/** The build a listed run is on: its versioning info where the list has it, else its TemporalWorkerDeploymentVersion (`deployment:build`). */
export function buildOf(run: WorkflowExecutionInfo): string | undefined {
  const fromInfo = run.raw.versioningInfo?.deploymentVersion?.buildId;
  if (fromInfo) return fromInfo;
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- system attributes have no typed key here
  const version = run.searchAttributes?.TemporalWorkerDeploymentVersion?.[0];
  return typeof version === 'string' && version.includes(':') ? version.slice(version.indexOf(':') + 1) : undefined;
}

/**
 * The builds with a worker polling the workflow task queue `taskQueue` now: of the builds its pollers
 * name, those temporal/run-build.ts says still poll (pollers and workers' heartbeats: a cleanly stopped
 * build counts as gone at once). One read of the task queue.
 */
export async function buildsPollingNow(client: Client, namespace: string, taskQueue: string, deploymentName: string): Promise<Set<string>> {
  const workers = await taskQueueWorkers(client, namespace, taskQueue);
  const named = new Set((workers.queue.pollers ?? []).flatMap((p) => (p.deploymentOptions?.buildId ? [p.deploymentOptions.buildId] : [])));
  const now = Date.now();
  return new Set([...named].filter((buildId) => buildPolls({ deploymentName, buildId }, workers, now).polling));
}

export function createReleaseActivities(client: Client, namespace: string, replay: ReplayProof) {
  const service = client.workflowService;
  const identity = `mm-onboarding-release@${process.pid}`;

  /**
   * The pass is alive: at every step, not only between paced runs, since one run's proof (its history
   * fetched and replayed, then up to MOVE_CONFIRM_MS of describes) can take long on a busy worker. The
   * SDK throttles these to a fraction of the heartbeat timeout.
   */
  const beat = (outcome: MoveRunsOutcome) => Context.current().heartbeat(outcome);

  /** Routes the run's next workflow task to `target` (one time: then it is pinned there), and gives it that task. */
  async function moveOnto(target: ReleaseTarget, workflowId: string, runId: string, outcome: MoveRunsOutcome): Promise<boolean> {
    await service.updateWorkflowExecutionOptions({
      namespace,
      workflowExecution: { workflowId, runId },
      workflowExecutionOptions: {
        versioningOverride: VersioningOverride.create({ oneTime: { targetDeploymentVersion: { deploymentName: target.deploymentName, buildId: target.buildId } } }),
      },
      updateMask: { paths: ['versioning_override'] },
      identity,
    });
    const handle = client.workflow.getHandle(workflowId, runId);
    await handle.signal(wakeForNewBuildSignal);
    // Ceiling: MOVE_CONFIRM_MS of describes, 4 a second.
    const until = Date.now() + MOVE_CONFIRM_MS;
    while (Date.now() < until) {
      const info = (await handle.describe()).raw.workflowExecutionInfo?.versioningInfo;
      if (!info?.versioningOverride && info?.deploymentVersion?.buildId === target.buildId) return true;
      await Context.current().sleep(250);
      beat(outcome);
    }
    return false;
  }

  /** Replays the run's own history here and, when it replays, moves it; the outcome counts which. */
  async function proveAndMove(target: ReleaseTarget, run: { workflowId: string; runId: string; build?: string }, outcome: MoveRunsOutcome) {
    const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    beat(outcome);
    const refusal = await replay(run.workflowId, history);
    beat(outcome);
    if (refusal !== undefined) {
      outcome.refused++;
      if (outcome.refusedRuns.length < EXAMPLES) outcome.refusedRuns.push(`${run.workflowId} (${run.build ?? 'unversioned'}): ${refusal}`);
      return;
    }
    // A move cannot be taken back: asked right before it, not from a check a moment old.
    if ((outcome.replacedBy = await replacementOf(target))) return;
    if (await moveOnto(target, run.workflowId, run.runId, outcome)) outcome.moved++;
    else outcome.notYetMoved++;
  }

  /** Still open, and still on a build other than `target`: a woken run that has not moved by itself. */
  async function stillOnOlderBuild(target: ReleaseTarget, workflowId: string, runId: string): Promise<boolean> {
    const d = await client.workflow.getHandle(workflowId, runId).describe();
    const info = d.raw.workflowExecutionInfo?.versioningInfo;
    return d.status.name === 'RUNNING' && info?.deploymentVersion?.buildId !== target.buildId && !info?.versioningOverride;
  }

  /**
   * The build that replaced `target` as the deployment's current version, or undefined while `target`
   * is current. A release acts only for the current build: an older one still running (its passes
   * before the deletes, or one in flight when the newer build took over) would otherwise take the newer
   * build's runs for runs of an older build, move them back onto its own and end the newer release.
   */
  const replacementOf = async (target: ReleaseTarget): Promise<string | undefined> => {
    const current = await currentVersion(client, namespace, target.deploymentName);
    return current && current.buildId !== target.buildId ? current.buildId : undefined;
  };

  const isGone = (err: unknown) => err instanceof WorkflowNotFoundError || (isGrpcServiceError(err) && err.code === 5);

  return {
    /**
     * One pass over the open runs of older builds, each touched once, at most `ratePerSecond`: a run
     * whose build still has workers is woken (it continues as new onto `target` by itself) and, if it
     * has not moved WAKE_GRACE_MS later, proven and moved like the runs of builds without workers.
     * Older release runs are ended (this release supersedes them). Heartbeats per run.
     */
    async moveRunsOfOlderBuilds({ target, taskQueue, inPlace, ratePerSecond, releaseWorkflowId }: MoveRunsInput): Promise<MoveRunsOutcome> {
      const outcome: MoveRunsOutcome = { found: 0, woken: 0, movedThemselves: 0, moved: 0, notYetMoved: 0, refused: 0, superseded: 0, gone: 0, refusedRuns: [] };
      if ((outcome.replacedBy = await replacementOf(target))) return outcome;
      const withWorkers = inPlace ? new Set<string>() : await buildsPollingNow(client, namespace, taskQueue, target.deploymentName);
      const woken: Array<{ workflowId: string; runId: string; build?: string; at: number }> = [];
      const gapMs = 1000 / Math.max(ratePerSecond, 0.01);
      let nextAt = Date.now();
      const paced = async () => {
        const wait = nextAt - Date.now();
        if (wait > 0) await Context.current().sleep(wait);
        nextAt = Math.max(nextAt, Date.now()) + gapMs;
        beat(outcome);
      };
      // Woken runs that did not move by themselves (their workers are busy, or gone after all).
      const settleWoken = async (all: boolean) => {
        while (woken.length && (all || woken.length >= WOKEN_BATCH) && !outcome.replacedBy) {
          const run = woken.shift()!;
          const wait = run.at + WAKE_GRACE_MS - Date.now();
          if (wait > 0) await Context.current().sleep(wait);
          beat(outcome);
          try {
            if (!(await stillOnOlderBuild(target, run.workflowId, run.runId))) {
              outcome.movedThemselves++;
              continue;
            }
            await paced();
            await proveAndMove(target, run, outcome);
          } catch (err) {
            if (!isGone(err)) throw err;
            outcome.movedThemselves++; // continued as new (onto the current build) before the check
          }
        }
      };
      for await (const run of client.workflow.list({ query: runsOnOlderBuildsQuery(target), pageSize: 100 })) {
        if (run.workflowId === releaseWorkflowId) continue;
        if (outcome.replacedBy) break;
        outcome.found++;
        await paced();
        const build = buildOf(run);
        try {
          if (run.type === RELEASE_WORKFLOW_TYPE) {
            // Only an older build's release: a newer one means this release is the one replaced.
            if ((outcome.replacedBy = await replacementOf(target))) break;
            await client.workflow.getHandle(run.workflowId, run.runId).terminate(`superseded by the release of ${versionLabel(target)}`);
            outcome.superseded++;
          } else if (build && withWorkers.has(build)) {
            await client.workflow.getHandle(run.workflowId, run.runId).signal(wakeForNewBuildSignal);
            outcome.woken++;
            woken.push({ workflowId: run.workflowId, runId: run.runId, build, at: Date.now() });
            await settleWoken(false);
          } else {
            await proveAndMove(target, { workflowId: run.workflowId, runId: run.runId, build }, outcome);
          }
        } catch (err) {
          // Closed meanwhile (continued as new, ended): nothing left to move.
          if (isGone(err)) outcome.gone++;
          else throw err;
        }
      }
      await settleWoken(true);
      return outcome;
    },

    /**
     * Deletes the deployment's versions that are neither current nor ramping, have no open run
     * (DRAINED, or INACTIVE: never had one) and no poller. A version whose workers stopped only
     * minutes ago still counts as polled (the server remembers pollers for minutes): it is kept for now.
     */
    async deleteRetiredVersions({ target }: { target: ReleaseTarget }): Promise<RetiredVersions> {
      const result: RetiredVersions = { deleted: [], kept: [] };
      const { workerDeploymentInfo } = await service.describeWorkerDeployment({ namespace, deploymentName: target.deploymentName });
      const retired = [WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINED, WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_INACTIVE];
      for (const summary of workerDeploymentInfo?.versionSummaries ?? []) {
        const version = summary.deploymentVersion;
        if (!version?.buildId || version.buildId === target.buildId) continue;
        const label = versionLabel({ deploymentName: target.deploymentName, buildId: version.buildId });
        if (!retired.includes(summary.status ?? 0)) {
          result.kept.push(`${label} (${WorkerDeploymentVersionStatus[summary.status ?? 0]?.replace('WORKER_DEPLOYMENT_VERSION_STATUS_', '').toLowerCase()})`);
          continue;
        }
        try {
          await service.deleteWorkerDeploymentVersion({ namespace, deploymentVersion: { deploymentName: target.deploymentName, buildId: version.buildId }, identity });
          result.deleted.push(label);
        } catch (err) {
          // Pollers seen lately, or it became draining again: kept, and tried again later.
          if (!isGrpcServiceError(err) || ![9, 5].includes(err.code)) throw err;
          result.kept.push(`${label} (${err.details || err.message})`);
        }
        Context.current().heartbeat();
      }
      return result;
    },
  };
}
