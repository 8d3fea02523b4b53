import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';

const tracer = trace.getTracer('mm-onboarding/graph');

/**
 * One CLIENT span per Graph HTTP call (a child of the activity's or request's span), named by method
 * and path. Only the method, the path (ids, never the query: it can hold an OAuth code or a secret),
 * the host and the answer's status go in: no header, token or body. With tracing off the span is
 * OpenTelemetry's no-op one.
 */
export async function inGraphCallSpan<T>(method: string, url: URL, pathOf: string, call: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(
    `${method} ${pathOf}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'http.request.method': method,
        'url.path': pathOf,
        'server.address': url.hostname,
        ...(url.port ? { 'server.port': Number(url.port) } : {}),
      },
    },
    async (span) => {
      try {
        return await call(span);
      } catch (err) {
        // No answer (a network error, a timeout): the class only, a message can quote what Meta answered.
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.setAttribute('error.type', err instanceof Error ? err.name : 'error');
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** The answer's status; 4xx and 5xx mark the span failed, the status its error type (the OpenTelemetry HTTP client convention). */
export function recordGraphStatus(span: Span, status: number): void {
  span.setAttribute('http.response.status_code', status);
  if (status >= 400) {
    span.setStatus({ code: SpanStatusCode.ERROR });
    span.setAttribute('error.type', String(status));
  }
}
