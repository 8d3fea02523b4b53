/**
 * The service's own metrics on the workers' Prometheus endpoint (WORKER_METRICS_PORT), defined once
 * for the workflows and activities that emit them through Temporal's metric meter, the worker that
 * exports them (worker/runtime-telemetry.ts), and the tests and docs that read them (docs/operations.md,
 * "Metrics"). The SDK's exporter writes each name as given here: no `temporal_` prefix (that is for
 * the SDK's own metrics), no `_total` or unit suffix added (countersTotalSuffix and unitSuffix off),
 * histograms in the value's own unit with the buckets below. No imports: workflow code may import it.
 *
 * The workflows' emissions are replay-safe (the SDK drops them while a worker replays a history) and
 * write nothing to Temporal: a status change counted here costs no command and no event.
 */

/** Counter: an onboarding's status changes, labels `from` (`none` for the first), `to`, `path`. */
export const STATUS_TRANSITIONS_METRIC = 'mm_onboarding_status_transitions_total';
/** Histogram (seconds): from the onboarding's start to its first READY, label `path`. */
export const TIME_TO_READY_METRIC = 'mm_onboarding_time_to_ready_seconds';
/** Histogram (seconds): how long an onboarding stayed in AWAITING_TERMS, observed as it leaves, label `path`. */
export const AWAITING_TERMS_METRIC = 'mm_onboarding_awaiting_terms_seconds';
/** Counter: WABAs a discovery listed, by what starting their onboarding came to, label `outcome`. */
export const DISCOVERY_OUTCOMES_METRIC = 'mm_discovery_outcomes_total';
/** Counter: partner-callback delivery attempts, label `result` (PARTNER_CALLBACK_RESULTS). */
export const PARTNER_CALLBACK_DELIVERIES_METRIC = 'mm_partner_callback_deliveries_total';
/** Counter: Graph calls that failed, labels `endpoint` (a path template, graph/endpoint-template.ts) and `code`. */
export const GRAPH_ERRORS_METRIC = 'mm_graph_errors_total';

/** The `from` of an onboarding's first status. */
export const NO_PREVIOUS_STATUS = 'none';

/** mm_discovery_outcomes_total's `outcome`: the three a page's start adds up to (workflows/discovery-types.ts). */
export const DISCOVERY_OUTCOMES = Object.freeze(['started', 'already_running', 'failed'] as const);

/**
 * mm_partner_callback_deliveries_total's `result`: `delivered` (2xx), `refused` (the partner's 3xx/4xx,
 * not retried), `failed` (no answer, 5xx, 429: retried by the activity's policy).
 */
export const PARTNER_CALLBACK_RESULTS = Object.freeze(['delivered', 'refused', 'failed'] as const);

/**
 * The funnel's durations run from seconds (a sandbox run) to the terms' 30-day deadline. The SDK's
 * default buckets are milliseconds-sized (50 … 10,000), so these are set on the exporter.
 */
export const FUNNEL_BUCKETS_SECONDS = Object.freeze([
  10, 60, 300, 900, 3_600, 4 * 3_600, 12 * 3_600, 86_400, 2 * 86_400, 4 * 86_400, 7 * 86_400, 14 * 86_400, 30 * 86_400,
]);

export const FUNNEL_HISTOGRAMS = Object.freeze([TIME_TO_READY_METRIC, AWAITING_TERMS_METRIC]);
