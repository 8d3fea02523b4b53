import { Client } from '@temporalio/client';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Config } from '../config';
import { createActivities } from '../activities';
import { GraphUsage } from '../graph';
import { publishGraphUsage } from './graph-usage-gauges';
import { graphTaskQueue } from '../temporal/task-queues';
import { workflowBundleOptions } from './workflow-bundle';
import { makeVersionCurrent, workerDeploymentOptions, type MakeCurrentOptions, type WorkerDeploymentVersion } from '../temporal/deployment-version';
import { createReleaseActivities } from '../activities/release';
import { replayProof } from './replay-proof';
import { assertCanTakeOver, startRelease, watchForRelease } from './release';
import type { ReleaseInput } from '../workflows/release-types';
import { tracingClientInterceptors, workerTracing } from '../telemetry/temporal-tracing';

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
  /**
   * Makes this build the deployment's current one and brings the older builds' open runs onto it (its
   * release). Refuses (ReleaseRefused) when runs whose build has no workers left do not replay on this
   * build's code. `inPlace`: the older builds' workers are known to be gone (`npm start`).
   */
  takeOver(opts?: Pick<MakeCurrentOptions, 'timeoutMs' | 'log'> & { inPlace?: boolean; release?: Partial<ReleaseInput> }): Promise<void>;
  /** A rollout side by side: starts this build's release once an operator has made it current. Returns the watch's stop. */
  watchForRelease(opts?: Pick<MakeCurrentOptions, 'log'>): () => void;
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
  /** Meta's usage figures as the Graph calls see them (one per process; a test reads it). */
  graphUsage: GraphUsage = new GraphUsage(config.graph.maxRps),
): Promise<OnboardingWorkers> {
  // Starts made on the workers' own connection can be eager: the first task comes back with the start.
  const eagerStarter = new Client({ connection, namespace: config.temporal.namespace, interceptors: tracingClientInterceptors() });
  const { activities: replaced, ...workerOverrides } = overrides;
  // Production runs a prebuilt bundle (npm run build); development bundles from source at start.
  const workflowSource = workerOverrides.workflowBundle
    ? { workflowBundle: workerOverrides.workflowBundle }
    : config.workflowBundlePath
      ? { workflowBundle: { codePath: config.workflowBundlePath } }
      : { workflowsPath: workflowBundleOptions.workflowsPath, bundlerOptions: { preloadModules: workflowBundleOptions.preloadModules } };
  const tracing = workerTracing();
  // A release proves a replaced build's runs replay on this build's own workflow code before moving them.
  const replay = replayProof(
    'workflowBundle' in workflowSource && workflowSource.workflowBundle
      ? { workflowBundle: workflowSource.workflowBundle }
      : { workflowsPath: workflowBundleOptions.workflowsPath },
  );
  const activities = {
    ...createActivities(config, client, graphUsage, eagerStarter),
    ...createReleaseActivities(client, config.temporal.namespace, replay),
    ...replaced,
  };
  const common = {
    connection,
    namespace: config.temporal.namespace,
    activities,
    shutdownGraceTime: '20s',
    // Every workflow is pinned to the build it started on (docs/versioning.md).
    workerDeploymentOptions: workerDeploymentOptions(config),
    // OTEL_* set: activities continue the trace of the workflow that scheduled them (telemetry/).
    // A prebuilt bundle has the workflow interceptor modules in it already (worker/workflow-bundle.ts).
    interceptors: { activity: tracing.activityInterceptors, ...('workflowsPath' in workflowSource ? { workflowModules: workflowBundleOptions.workflowInterceptorModules } : {}) },
    sinks: tracing.sinks,
  } satisfies Partial<WorkerOptions>;
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
  const version = common.workerDeploymentOptions.version;
  const makeCurrent = (opts: Pick<MakeCurrentOptions, 'timeoutMs' | 'log'> = {}) =>
    makeVersionCurrent(client, config.temporal.namespace, version, {
      ...opts,
      taskQueues: [config.temporal.taskQueue, graphTaskQueue(config.temporal.taskQueue)],
      aborted: () => !running(),
    });
  return {
    run: async () => {
      // On the runtime's metrics endpoint (WORKER_METRICS_PORT) while the workers run.
      const stopGauges = publishGraphUsage(graphUsage, Runtime.instance().metricMeter);
      try {
        await Promise.all([main.run(), graph.run()]);
      } finally {
        stopGauges();
      }
    },
    shutdown: () => {
      for (const w of [main, graph]) if (w.getState() === 'RUNNING') w.shutdown();
    },
    version,
    makeCurrent,
    takeOver: async ({ release, inPlace = false, ...opts } = {}) => {
      await assertCanTakeOver({ client, config, version, replay, log: opts.log }, inPlace);
      await makeCurrent(opts);
      await startRelease({ client, config, version, log: opts.log }, inPlace, release);
    },
    watchForRelease: (opts = {}) => watchForRelease({ client, config, version, log: opts.log }),
  };
}
