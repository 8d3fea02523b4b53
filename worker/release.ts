/**
 * How a build takes over from the builds before it (docs/versioning.md):
 * - by itself (`TEMPORAL_WORKER_SET_CURRENT=true`, `npm start`): the runs of older builds whose
 *   workers are gone (replaced in place) must replay on this build's code, a sample first, or this
 *   build refuses to take over and says how to roll out side by side; then it becomes current and its
 *   release wakes the runs whose build still runs and moves the others (each proven on its own history);
 * - by an operator (a rollout: `set-current-version`): the worker watches for its build to become
 *   current and then starts the same release.
 * Either way the release is one workflow per version (workflows/release.ts); starting it again joins it.
 */
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { buildOf, buildsPollingNow, runsOnOlderBuildsQuery, type ReplayProof } from '../activities/release';
import { currentVersion, versionLabel, type WorkerDeploymentVersion } from '../temporal/deployment-version';
import { releaseWorkflowId, RELEASE_WORKFLOW_TYPE, type ReleaseInput } from '../workflows/release-types';

/** Runs of older builds replayed before an in-place takeover, at most (the release proves every other one as it moves it). */
const PREFLIGHT_SAMPLE = 20;

/** This build cannot replay the runs it would replace in place. */
export class ReleaseRefused extends Error {}

export interface ReleaseOptions {
  client: Client;
  config: Config;
  version: WorkerDeploymentVersion;
  replay: ReplayProof;
  log?: (line: string) => void;
}

/** Starts (or joins) the release of `version`: the runs of older builds come onto it. */
export async function startRelease({ client, config, version, log }: Omit<ReleaseOptions, 'replay'>, inPlace: boolean, overrides: Partial<ReleaseInput> = {}) {
  const input: ReleaseInput = {
    target: { deploymentName: version.deploymentName, buildId: version.buildId },
    taskQueue: config.temporal.taskQueue,
    inPlace,
    ratePerSecond: config.temporal.deployment.releaseRatePerSecond,
    ...overrides,
  };
  const workflowId = releaseWorkflowId(input.target);
  // A release of this version still running is joined (USE_EXISTING); a finished one is run again.
  const handle = await client.workflow.start(RELEASE_WORKFLOW_TYPE, {
    workflowId,
    taskQueue: config.temporal.taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `Release of ${versionLabel(version)}: runs of older builds move onto it`,
  });
  log?.(`release ${workflowId} started: runs of older builds move onto ${versionLabel(version)} (${inPlace ? 'in place' : 'side by side'}, at most ${input.ratePerSecond}/s)`);
  return handle;
}

/**
 * Before making this build current: the open runs of older builds whose workers are gone (all of
 * them, `inPlace`) must replay on this build's workflow code, or nothing could ever run them again.
 * A sample is checked; throws ReleaseRefused, naming the runs and the way out, when one does not.
 * Runs whose build still has workers need no proof: they continue as new onto this build themselves.
 */
export async function assertCanTakeOver({ client, config, version, replay, log }: ReleaseOptions, inPlace: boolean): Promise<void> {
  const current = await currentVersion(client, config.temporal.namespace, version.deploymentName);
  if (!current || current.buildId === version.buildId) return;
  const polling = inPlace ? new Set<string>() : await buildsPollingNow(client, config.temporal.namespace, config.temporal.taskQueue, version.deploymentName);
  const failures: string[] = [];
  let checked = 0;
  let listed = 0;
  // Ceiling: one page of runs listed, PREFLIGHT_SAMPLE of them replayed.
  for await (const run of client.workflow.list({ query: runsOnOlderBuildsQuery(version), pageSize: PREFLIGHT_SAMPLE })) {
    if (++listed > PREFLIGHT_SAMPLE) break;
    const build = buildOf(run);
    if (run.type === RELEASE_WORKFLOW_TYPE || (build && polling.has(build))) continue;
    const refusal = await replay(run.workflowId, await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory());
    if (refusal) failures.push(`${run.workflowId}: ${refusal}`);
    if (++checked >= PREFLIGHT_SAMPLE) break;
  }
  if (failures.length === 0) {
    if (checked) log?.(`${checked} open run(s) of ${versionLabel(current)} and older builds replay on ${versionLabel(version)}: replacing it in place`);
    return;
  }
  throw new ReleaseRefused(
    `${versionLabel(version)} will not replace ${versionLabel(current)} in place: ${failures.length} of ${checked} open run(s) checked do not replay on its workflow code ` +
      `(${failures.slice(0, 3).join('; ')}). Roll out side by side instead: start ${versionLabel(current)}'s workers again, start this build's workers ` +
      `beside them with TEMPORAL_WORKER_SET_CURRENT unset, then make it current (docs/versioning.md, "Release procedure"); the runs move at their next safe point.`,
  );
}

/**
 * A rollout: checks every `releaseWatchSeconds` whether this build has been made current, and starts
 * its release once it has. Returns a function that stops the watch.
 */
export function watchForRelease(opts: Omit<ReleaseOptions, 'replay'>): () => void {
  const { client, config, version, log } = opts;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const check = async () => {
    try {
      const current = await currentVersion(client, config.temporal.namespace, version.deploymentName);
      if (current?.buildId === version.buildId) {
        await startRelease(opts, false);
        return; // once per process: the release itself goes on without this worker
      }
    } catch (err) {
      log?.(`could not check whether ${versionLabel(version)} is current yet: ${err instanceof Error ? err.message : err}`);
    }
    if (!stopped) timer = setTimeout(() => void check(), config.temporal.deployment.releaseWatchSeconds * 1000);
  };
  void check();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
