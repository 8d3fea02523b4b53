/**
 * A Graph call's path as a bounded template for metrics (mm_graph_errors_total's `endpoint`):
 * `/123/phone_numbers` → `/{id}/phone_numbers`. A segment is kept only when it is one of the edges
 * this client calls; any other segment (an id, or whatever a caller put there) is `{id}`, so the
 * label's values are a closed set and never carry an id.
 */
const EDGES: ReadonlySet<string> = new Set([
  'oauth',
  'access_token',
  'debug_token',
  'phone_numbers',
  'onboard_partners_to_mm_lite',
  'subscribed_apps',
  'client_whatsapp_business_accounts',
  'message_templates',
  'insights',
  'template_analytics',
  'messages',
  'marketing_messages',
]);

/** `path`: after the version, as the client builds it ("/123/phone_numbers"); a query string is dropped. */
export function endpointTemplate(path: string): string {
  const segments = path.split('?')[0].split('/').filter(Boolean);
  return `/${segments.map((s) => (EDGES.has(s) ? s : '{id}')).join('/')}`;
}

/** The `code` label: Meta's error code when it gave one, else what kind of failure it was. */
export function errorCodeLabel(err: { code?: number; httpStatus: number; name: string }): string {
  if (err.code !== undefined) return String(err.code);
  if (err.name === 'GraphResponseError') return 'bad_response';
  return err.httpStatus ? `http_${err.httpStatus}` : 'network';
}
