import { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Config } from '../config';
import { createActivities } from '../activities';
import type { GraphUsage } from '../graph';
import { graphTaskQueue } from '../temporal/task-queues';
import { workflowBundleOptions } from './workflow-bundle';
import { makeVersionCurrent, workerDeploymentOptions, type MakeCurrentOptions, type WorkerDeploymentVersion } from '../temporal/deployment-version';

/**
 * Settings of the workflow worker (also used by the bulk benchmark's baseline, so the two compare fairly).
 * The SDK's defaults: more pollers on the shared queue (tried at 10,000 WABAs) sped the onboardings up
 * but halved the trivial baseline, whose worker then replayed workflows it had to evict.
 */
export const WORKFLOW_WORKER_TUNING = {} satisfies Partial<WorkerOptions>;

export interface OnboardingWorkers {
  run(): Promise<void>;
  shutdown(): void;
  /** The Worker Deployment Version both workers declare. */
  version: WorkerDeploymentVersion;
  /**
   * Makes the workers' version the deployment's Current Version once their first polls have registered
   * it (bounded); call after `run()`. Until then a versioned worker gets no tasks.
   */
  makeCurrent(opts?: Pick<MakeCurrentOptions, 'timeoutMs' | 'log'>): Promise<boolean>;
}

/**
 * The two workers of the service: one for the workflows and their bookkeeping activities, one for the
 * Graph activities under `GRAPH_MAX_RPS`. Both drain for up to `shutdownGraceTime` on shutdown.
 * `overrides.activities` replace the service's activities of the same name (a test's injected fault).
 */
export async function createWorkers(
  config: Config,
  connection: NativeConnection,
  client: Client,
  overrides: Partial<WorkerOptions> = {},
  /** Meta's usage figures as the Graph calls see them; pass the same one to the API for /metrics. */
  graphUsage?: GraphUsage,
): Promise<OnboardingWorkers> {
  // Starts made on the workers' own connection can be eager: the first task comes back with the start.
  const eagerStarter = new Client({ connection, namespace: config.temporal.namespace });
  const { activities: replaced, ...workerOverrides } = overrides;
  const activities = { ...createActivities(config, client, graphUsage, eagerStarter), ...replaced };
  const common = {
    connection,
    namespace: config.temporal.namespace,
    activities,
    shutdownGraceTime: '20s',
    // Every workflow is pinned to the build it started on (docs/versioning.md).
    workerDeploymentOptions: workerDeploymentOptions(config),
  } satisfies Partial<WorkerOptions>;
  // Production runs a prebuilt bundle (npm run build); development bundles from source at start.
  const workflowSource = workerOverrides.workflowBundle
    ? { workflowBundle: workerOverrides.workflowBundle }
    : config.workflowBundlePath
      ? { workflowBundle: { codePath: config.workflowBundlePath } }
      : { workflowsPath: workflowBundleOptions.workflowsPath, bundlerOptions: { preloadModules: workflowBundleOptions.preloadModules } };

  const main = await Worker.create({
    ...common,
    ...WORKFLOW_WORKER_TUNING,
    ...(config.workerMaxCachedWorkflows ? { maxCachedWorkflows: config.workerMaxCachedWorkflows } : {}),
    taskQueue: config.temporal.taskQueue,
    ...workerOverrides,
    ...workflowSource,
  });
  const graph = await Worker.create({
    ...common,
    taskQueue: graphTaskQueue(config.temporal.taskQueue),
    maxTaskQueueActivitiesPerSecond: config.graph.maxRps,
    ...workerOverrides,
    workflowBundle: undefined,
    workflowsPath: undefined,
  });
  const running = () => [main, graph].every((w) => ['INITIALIZED', 'RUNNING'].includes(w.getState()));
  return {
    run: async () => {
      await Promise.all([main.run(), graph.run()]);
    },
    shutdown: () => {
      for (const w of [main, graph]) if (w.getState() === 'RUNNING') w.shutdown();
    },
    version: common.workerDeploymentOptions.version,
    makeCurrent: (opts = {}) =>
      makeVersionCurrent(client, config.temporal.namespace, common.workerDeploymentOptions.version, {
        ...opts,
        taskQueues: [config.temporal.taskQueue, graphTaskQueue(config.temporal.taskQueue)],
        aborted: () => !running(),
      }),
  };
}
