/**
 * Which build a run's next workflow task goes to, and whether a worker of that build still polls its
 * task queue. A run pinned to a build whose workers are gone answers no query and accepts no update
 * until it is moved to a build that polls (docs/versioning.md): this tells that run from one that is
 * merely slow. Three cheap reads (the run's describe, its task queue's pollers, the workers' own
 * heartbeats), meant for the moment a run has not answered, never for every call.
 */
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

type VersioningInfo = temporal.api.workflow.v1.IWorkflowExecutionVersioningInfo;
type Version = temporal.api.deployment.v1.IWorkerDeploymentVersion;
type Timestamp = { seconds?: unknown; nanos?: number | null } | null | undefined;

const { VersioningBehavior, WorkerVersioningMode, WorkerStatus, TaskQueueType, TaskQueueKind } = temporal.api.enums.v1;

/**
 * A poller seen within this long may still poll. The server records a poll when it starts and when
 * it ends, and an idle long poll ends after a minute, so a live worker's entry is never older than
 * that. A worker that crashed keeps its entry (5 min) with its last poll's time: it counts as gone
 * only once that is older than this.
 */
export const POLLER_SEEN_WITHIN_MS = 75_000;

/** The version a run's next workflow task goes to: a build, the task queue's current one, or none. */
export type RunTarget = { deploymentName: string; buildId: string } | 'current' | 'unversioned';

/** The run's build (undefined: unversioned) and whether a worker of it polls. */
export interface RunBuild {
  buildId?: string;
  polling: boolean;
}

/** What the task queue's workers say of themselves: the root partition's pollers, and their heartbeats. */
export interface TaskQueueWorkers {
  queue: temporal.api.workflowservice.v1.IDescribeTaskQueueResponse;
  /** Heartbeats of the task queue's workers; undefined when the server keeps none (heartbeats off, an older server). */
  heartbeats?: WorkerHeartbeatSummary[];
}

export interface WorkerHeartbeatSummary {
  deploymentVersion?: Version | null;
  status: unknown;
  /** When it last heartbeated (its final one as it shut down), epoch ms; undefined when not reported. */
  heartbeatAt?: number;
}

/** The client hands enums over as numbers or as names depending on the path. */
const isEnum = (value: unknown, names: Record<number, string>, wanted: number) => value === wanted || value === names[wanted];
const isBehavior = (value: unknown, behavior: number) => isEnum(value, VersioningBehavior, behavior);

const asTarget = (v: Version | null | undefined): RunTarget | undefined =>
  v?.buildId && v.deploymentName ? { deploymentName: v.deploymentName, buildId: v.buildId } : undefined;

function timestampMs(t: Timestamp): number | undefined {
  if (!t) return undefined;
  return Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
}

/**
 * Where the run's next task goes: a transition under way or a one-time move first, then an override
 * (`temporal workflow update-options`, how a stuck run is moved), then the behavior its last task
 * declared (PINNED: its own build; AUTO_UPGRADE: the task queue's current version).
 */
export function runTarget(info: VersioningInfo | null | undefined): RunTarget {
  const override = info?.versioningOverride;
  const moving = asTarget(info?.versionTransition?.deploymentVersion) ?? asTarget(override?.oneTime?.targetDeploymentVersion);
  if (moving) return moving;
  if (override?.pinned) return asTarget(override.pinned.version) ?? asTarget(info?.deploymentVersion) ?? 'unversioned';
  if (override?.autoUpgrade) return 'current';
  if (isBehavior(info?.behavior, VersioningBehavior.VERSIONING_BEHAVIOR_PINNED)) return asTarget(info?.deploymentVersion) ?? 'unversioned';
  if (isBehavior(info?.behavior, VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE)) return 'current';
  return 'unversioned';
}

/**
 * Whether a worker of `target` polls: a poller of it seen within POLLER_SEEN_WITHIN_MS, and, when
 * all of the build's workers on the queue have said (in their heartbeats) that they are shutting
 * down, a poll seen after the last of them said so (a worker of that build started again since).
 * The heartbeats are what tells a clean shutdown at once; the pollers' age, a crash.
 */
export function buildPolls(target: RunTarget, { queue, heartbeats }: TaskQueueWorkers, now: number): RunBuild {
  const routing = queue.versioningInfo;
  const builds =
    target === 'current'
      ? // The current version and the ramping one (a share of tasks goes there); none current: unversioned workers.
        [asTarget(routing?.currentDeploymentVersion) ?? 'unversioned', asTarget(routing?.rampingDeploymentVersion)].filter((t): t is RunTarget => t !== undefined)
      : [target];
  const recent = (queue.pollers ?? []).filter((p) => now - (timestampMs(p.lastAccessTime) ?? 0) <= POLLER_SEEN_WITHIN_MS);

  const polls = (t: RunTarget) => {
    const versioned = (p: (typeof recent)[number]) =>
      isEnum(p.deploymentOptions?.workerVersioningMode, WorkerVersioningMode, WorkerVersioningMode.WORKER_VERSIONING_MODE_VERSIONED);
    if (typeof t !== 'object') return recent.some((p) => !versioned(p));
    const stoppedAt = allStoppedAt(t, heartbeats);
    return recent.some(
      (p) =>
        versioned(p) &&
        p.deploymentOptions?.buildId === t.buildId &&
        p.deploymentOptions?.deploymentName === t.deploymentName &&
        (stoppedAt === undefined || (timestampMs(p.lastAccessTime) ?? 0) > stoppedAt),
    );
  };
  const first = builds[0];
  return { ...(typeof first === 'object' ? { buildId: first.buildId } : {}), polling: builds.some(polls) };
}

/**
 * When every heartbeating worker of the build has shut down (or is shutting down): the last of their
 * final heartbeats (never, i.e. no poll counts after it, when they did not say when). Undefined
 * while one of them runs, or when none is known.
 */
function allStoppedAt(t: { deploymentName: string; buildId: string }, heartbeats: WorkerHeartbeatSummary[] | undefined): number | undefined {
  const mine = (heartbeats ?? []).filter((w) => w.deploymentVersion?.buildId === t.buildId && w.deploymentVersion?.deploymentName === t.deploymentName);
  if (mine.length === 0 || mine.some((w) => isEnum(w.status, WorkerStatus, WorkerStatus.WORKER_STATUS_RUNNING))) return undefined;
  return Math.max(...mine.map((w) => w.heartbeatAt ?? Number.POSITIVE_INFINITY));
}

/** The task queue's pollers and routing (its root partition's view) and its workers' heartbeats. */
export async function taskQueueWorkers(client: Client, namespace: string, taskQueue: string): Promise<TaskQueueWorkers> {
  const service = client.workflowService;
  const [queue, listed] = await Promise.all([
    service.describeTaskQueue({
      namespace,
      taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    }),
    // Heartbeats are a newer API: a server without them leaves the pollers to decide.
    service.listWorkers({ namespace, query: `TaskQueue = '${taskQueue.replace(/'/g, "\\'")}'`, pageSize: 1000 }).catch(() => undefined),
  ]);
  if (!listed) return { queue };
  // `workersInfo` (deprecated) carries the heartbeat's time; `workers`, its successor, only the status.
  const heartbeats: WorkerHeartbeatSummary[] = listed.workersInfo?.length
    ? listed.workersInfo.map(({ workerHeartbeat: hb }) => ({
        deploymentVersion: hb?.deploymentVersion,
        status: hb?.status,
        heartbeatAt: timestampMs(hb?.heartbeatTime),
      }))
    : (listed.workers ?? []).map((w) => ({ deploymentVersion: w.deploymentVersion, status: w.status }));
  return { queue, heartbeats };
}

/** The run's target build and whether it polls, from its description and its task queue's workers. */
export function runBuild(description: WorkflowExecutionDescription, workers: TaskQueueWorkers, now = Date.now()): RunBuild {
  return buildPolls(runTarget(description.raw.workflowExecutionInfo?.versioningInfo), workers, now);
}
