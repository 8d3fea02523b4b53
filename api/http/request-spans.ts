import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import { routePattern } from './route-pattern';

const tracer = trace.getTracer('mm-onboarding/api');

/** Probes and scrapes, every few seconds each: a trace apiece would bury the ones worth reading. */
const UNTRACED = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * A SERVER span per HTTP request, the parent of everything the request does (its Temporal calls, its
 * Graph calls, its log lines' trace_id). It continues a caller's W3C `traceparent` when one is sent.
 * Named by method and route pattern once answered (`POST /webhooks/whatsapp`); only the method, the
 * pattern and the status go in, never the path's values, query, headers or body.
 * Health probes and metric scrapes get none. With tracing off, OpenTelemetry's no-op span.
 */
export const requestSpans: RequestHandler = (req, res, next) => {
  if (UNTRACED.has(req.path)) return next();
  const parent = propagation.extract(context.active(), req.headers);
  const span = tracer.startSpan(req.method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method } }, parent);
  res.once('finish', () => {
    const route = routePattern(req, res);
    if (route) {
      span.updateName(`${req.method} ${route}`);
      span.setAttribute('http.route', route);
    }
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  // An aborted request never finishes: end its span anyway.
  res.once('close', () => {
    if (!res.writableFinished) span.end();
  });
  context.with(trace.setSpan(parent, span), next);
};
