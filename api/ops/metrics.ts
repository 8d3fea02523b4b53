/**
 * Prometheus metrics of the HTTP face. Each app gets its own Registry (not prom-client's global one),
 * so tests and benchmarks can build many apps in one process.
 */
import type { RequestHandler } from 'express';
import { routePattern } from '../http/route-pattern';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { createDeliveryMetrics } from './delivery-metrics';
import { temporalCallResult } from './temporal-call-result';

export type DeliveryOutcome = 'accepted' | 'ignored' | 'unauthorized' | 'malformed' | 'too_large' | 'unavailable';
export type ChangeOutcome = 'signalled' | 'no_onboarding' | 'ignored' | 'invalid' | 'failed' | 'duplicate' | 'counted';

/**
 * The API's metrics. The workers' (Graph usage and pacing, the SDK's task latencies) are on the
 * workers' endpoint, WORKER_METRICS_PORT, in every deployment shape (worker/graph-usage-gauges.ts).
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'mm_api_' });
  const registers = [registry];

  const webhookDeliveries = new Counter({
    name: 'mm_webhook_deliveries_total',
    help: "Meta webhook POSTs, by outcome (accepted, ignored, unauthorized, malformed, too_large, unavailable)",
    labelNames: ['outcome'] as const,
    registers,
  });
  const webhookChanges = new Counter({
    name: 'mm_webhook_changes_total',
    help: 'Changes inside webhook deliveries, by account_update event (or "unknown") and outcome',
    labelNames: ['event', 'outcome'] as const,
    registers,
  });
  const httpRequests = new Counter({
    name: 'mm_http_requests_total',
    help: 'HTTP requests, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  const httpDuration = new Histogram({
    name: 'mm_http_request_duration_seconds',
    help: 'HTTP request latency, by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const temporalDuration = new Histogram({
    name: 'mm_temporal_call_duration_seconds',
    help: "Latency of the calls the API makes to Temporal, by operation and result (ok, already_running, not_found, no_poller: no worker of the run's build polls, error)",
    labelNames: ['operation', 'result'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });

  const sends = new Counter({
    name: 'mm_sends_total',
    help: 'Sends through the gate, by route (marketing_messages, cloud_api, none) and outcome (sent, not_ready, not_onboarded_on_meta, not_marketing, graph_error, unavailable: answered 503)',
    labelNames: ['route', 'outcome'] as const,
    registers,
  });
  const sendRecords = new Counter({
    name: 'mm_send_records_total',
    help: 'Send records the gate asked of the onboarding (resync, refresh), by result (written, refused, failed)',
    labelNames: ['record', 'result'] as const,
    registers,
  });

  const driftChecks = new Counter({
    name: 'mm_drift_checks_total',
    help: 'Drift checks asked for after Meta refused as "not onboarded" (131055), by cause (send, status_webhook) and result (asked, refused, remembered, no_onboarding, no_poller, failed)',
    labelNames: ['cause', 'result'] as const,
    registers,
  });
  const graphErrors = new Counter({
    name: 'mm_graph_errors_total',
    help: "The API's own Graph calls (sends, signup checks) that failed, by endpoint (a path template) and code (Meta's, or network, bad_response, http_<status>); the workers count theirs on their own endpoint",
    labelNames: ['endpoint', 'code'] as const,
    registers,
  });
  const delivery = createDeliveryMetrics(registers);

  /** Counts and times every request once it has been answered, labelled by route pattern (not raw path). */
  const middleware: RequestHandler = (req, res, next) => {
    const stop = httpDuration.startTimer();
    res.once('finish', () => {
      const route = routePattern(req, res) ?? 'unmatched';
      stop({ method: req.method, route });
      httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };

  /** Put first in a mounted router, so its routes are labelled with their full pattern. */
  const rememberMountPoint: RequestHandler = (req, res, next) => {
    res.locals.routeBase = req.baseUrl;
    next();
  };

  /** Times one call to Temporal. */
  async function timeTemporal<T>(operation: string, call: () => Promise<T>): Promise<T> {
    const stop = temporalDuration.startTimer({ operation });
    try {
      const result = await call();
      stop({ result: 'ok' });
      return result;
    } catch (err) {
      stop({ result: temporalCallResult(err) });
      throw err;
    }
  }

  return {
    registry,
    webhookDeliveries,
    webhookChanges,
    httpRequests,
    sends,
    sendRecords,
    driftChecks,
    graphErrors,
    ...delivery,
    middleware,
    rememberMountPoint,
    timeTemporal,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

