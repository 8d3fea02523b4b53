import type { TelemetryOptions } from '@temporalio/worker';
import type { Config } from '../config';
import { deploymentVersion, versionLabel } from '../temporal/deployment-version';
import { FUNNEL_BUCKETS_SECONDS, FUNNEL_HISTOGRAMS } from '../temporal/worker-metrics';

/**
 * The SDK runtime's metrics endpoint on WORKER_METRICS_PORT, for every process that runs the workers
 * (`npm run worker`, the image's worker, `npm start`): the SDK's own metrics (task latencies, failures,
 * slots), the service's Graph gauges (worker/graph-usage-gauges.ts) and what the workflows and
 * activities count (temporal/worker-metrics.ts). Every line is labelled `build` with this process's
 * Worker Deployment Version (`deployment:buildId`, as TemporalWorkerDeploymentVersion spells it), so
 * a dashboard can watch a release build by build. Unset: no endpoint.
 */
export function workerRuntimeTelemetry(config: Pick<Config, 'host' | 'workerMetricsPort' | 'temporal'>): TelemetryOptions | undefined {
  if (!config.workerMetricsPort) return undefined;
  return {
    metrics: {
      globalTags: { build: versionLabel(deploymentVersion(config)) },
      prometheus: {
        bindAddress: `${config.host}:${config.workerMetricsPort}`,
        // Names as given (the SDK's defaults, said out loud): no `_total` or unit suffix added to ours.
        countersTotalSuffix: false,
        unitSuffix: false,
        // The SDK's default buckets are milliseconds-sized (50 … 10,000); the funnel's are seconds up to 30 days.
        histogramBucketOverrides: Object.fromEntries(FUNNEL_HISTOGRAMS.map((name) => [name, [...FUNNEL_BUCKETS_SECONDS]])),
      },
    },
  };
}
