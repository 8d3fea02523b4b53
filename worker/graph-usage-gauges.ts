/**
 * The Graph usage gauges, published by whichever process runs the workers (`npm run worker`, the
 * image's worker, `npm start`) through the SDK runtime's metric meter, so they are on the workers'
 * metrics endpoint (WORKER_METRICS_PORT) whatever the deployment's shape:
 *   mm_graph_usage_percent{header}       highest usage Meta reported in the last minute (app, business_use_case)
 *   mm_graph_allowed_calls_per_second    the pace the app's usage allows now (GRAPH_MAX_RPS below 75 %)
 *   mm_graph_slowed_businesses           businesses whose own calls go slower or wait for Meta
 * The SDK's gauges hold the last value set, so they are set from the usage tracker every few seconds
 * (its readings age out after a minute without a Graph answer).
 */
import type { MetricMeter } from '@temporalio/common';
import type { GraphUsage, UsageHeader } from '../graph';

export const GRAPH_GAUGES_EVERY_MS = 5_000;
export const GRAPH_USAGE_PERCENT = 'mm_graph_usage_percent';
export const GRAPH_ALLOWED_CALLS_PER_SECOND = 'mm_graph_allowed_calls_per_second';
export const GRAPH_SLOWED_BUSINESSES = 'mm_graph_slowed_businesses';

/** Sets the gauges now and every `everyMs`; returns the stop. */
export function publishGraphUsage(usage: GraphUsage, meter: MetricMeter, everyMs = GRAPH_GAUGES_EVERY_MS): () => void {
  const percent = meter.createGauge(
    GRAPH_USAGE_PERCENT,
    'float',
    '%',
    'Highest Graph usage Meta reported in the last minute, by header (app: X-App-Usage; business_use_case: X-Business-Use-Case-Usage)',
  );
  const allowed = meter.createGauge(
    GRAPH_ALLOWED_CALLS_PER_SECOND,
    'float',
    '1/s',
    "Graph calls per second the workers allow themselves now, by the app's usage (X-App-Usage): GRAPH_MAX_RPS below 75 %, down to 2 % of it at 100 %",
  );
  const slowed = meter.createGauge(
    GRAPH_SLOWED_BUSINESSES,
    'int',
    '1',
    "Businesses whose own Graph calls go slower (X-Business-Use-Case-Usage at 75 % or more) or wait for Meta's regain time",
  );
  const publish = () => {
    const now = usage.snapshot();
    for (const [header, value] of Object.entries(now.percent) as Array<[UsageHeader, number]>) percent.set(value, { header });
    allowed.set(now.callsPerSecond);
    slowed.set(now.slowedBusinesses);
  };
  publish();
  const timer = setInterval(publish, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
