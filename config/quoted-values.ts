/**
 * Which settings' values a start-up error may quote back (`PORT must be a port number (got "abc")`):
 * only the plain ones listed here. Everything else is named, never quoted: the secrets
 * (config/secret-files.ts), Temporal's TLS keys and gRPC metadata, PARTNER_CALLBACK_URL (a partner's
 * URL can be a capability URL, its path the secret), and any setting added later until it is listed.
 */
const PLAIN = new Set([
  'MM_SANDBOX',
  'PORT',
  'HOST',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_TASK_QUEUE',
  'TEMPORAL_DEPLOYMENT_NAME',
  'TEMPORAL_WORKER_BUILD_ID',
  'TEMPORAL_WORKER_SET_CURRENT',
  'GRAPH_API_VERSION',
  'GRAPH_MAX_RPS',
  'META_APP_ID',
  'WORKER_METRICS_PORT',
  'WORKER_MAX_CACHED_WORKFLOWS',
  'DISCOVERY_MAX_TASK_BACKLOG',
  'SANDBOX_PORT',
  'TEMPORAL_DEV_PORT',
  'TEMPORAL_UI_PORT',
  'TEMPORAL_DEV_DB_FILE',
  'WORKFLOW_BUNDLE_PATH',
  'META_ES_CONFIG_ID',
  'META_ES_FEATURE_TYPE',
  'OTEL_SDK_DISABLED',
  'OTEL_TRACES_EXPORTER',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TIMEOUT',
  'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT',
  'OTEL_SERVICE_NAME',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
]);

/** URLs of the service's own or Meta's, quoted without what may carry credentials: user info, query, fragment. */
const URLS = new Set(['GRAPH_API_BASE_URL', 'PUBLIC_BASE_URL', 'META_SDK_URL', 'CODEC_CORS_ORIGINS', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);

/** ` (got "<value>")` for a setting whose value may be shown, else '' (the message names the variable only). */
export function quotedValue(name: string, raw: string | undefined): string {
  if (raw === undefined) return '';
  if (PLAIN.has(name)) return ` (got ${JSON.stringify(raw)})`;
  if (URLS.has(name)) return ` (got ${JSON.stringify(withoutCredentials(raw))})`;
  return '';
}

/** Textual, as the value may not parse as a URL: everything up to the last `@` (user info) and from `?` or `#` on, cut. */
function withoutCredentials(list: string): string {
  return list
    .split(',')
    .map((url) => {
      const at = url.lastIndexOf('@');
      const scheme = url.indexOf('//');
      const withoutUser = at < 0 ? url : `${scheme >= 0 && scheme < at ? url.slice(0, scheme + 2) : ''}…@${url.slice(at + 1)}`;
      return withoutUser.replace(/[?#].*$/s, '?…');
    })
    .join(',');
}
