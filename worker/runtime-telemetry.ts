import type { TelemetryOptions } from '@temporalio/worker';
import type { Config } from '../config';

/**
 * The SDK runtime's metrics endpoint on WORKER_METRICS_PORT, for every process that runs the workers
 * (`npm run worker`, the image's worker, `npm start`): the SDK's own metrics (task latencies, failures,
 * slots) and the service's Graph gauges (worker/graph-usage-gauges.ts). Unset: no endpoint.
 */
export function workerRuntimeTelemetry(config: Pick<Config, 'host' | 'workerMetricsPort'>): TelemetryOptions | undefined {
  return config.workerMetricsPort ? { metrics: { prometheus: { bindAddress: `${config.host}:${config.workerMetricsPort}` } } } : undefined;
}
