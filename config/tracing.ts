import { z } from 'zod';

/**
 * OpenTelemetry tracing, read from the standard `OTEL_*` variables (the OpenTelemetry SDK's
 * environment specification; docs/configuration.md lists the ones the service reads). Off unless an
 * OTLP endpoint is given (or OTEL_TRACES_EXPORTER=otlp asks for the spec's default endpoint).
 */
export interface TracingConfig {
  /** OTEL_SERVICE_NAME; default by process: mm-onboarding (npm start), mm-onboarding-api, mm-onboarding-worker. */
  serviceName: string;
  /** Where spans go: OTLP over HTTP, protobuf encoded. */
  tracesUrl: string;
  /** OTEL_EXPORTER_OTLP(_TRACES)_HEADERS: often a vendor's key, so never logged. */
  headers: Record<string, string>;
  timeoutMs: number;
  /** OTEL_RESOURCE_ATTRIBUTES. */
  resourceAttributes: Record<string, string>;
  sampler: { name: SamplerName; ratio: number };
}

export const SAMPLERS = [
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
  'always_on',
  'always_off',
  'traceidratio',
] as const;
export type SamplerName = (typeof SAMPLERS)[number];

/** The spec's default when OTEL_TRACES_EXPORTER=otlp names no endpoint. */
export const DEFAULT_OTLP_HTTP_ENDPOINT = 'http://localhost:4318';

const text = z
  .string()
  .transform((s) => s.trim())
  .optional()
  .transform((s) => (s ? s : undefined));
const httpUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' });
const protocol = text.pipe(
  z.enum(['http/protobuf'], { message: 'must be http/protobuf (the OTLP protocol the service sends; grpc and http/json are not built in)' }).optional(),
);
const timeoutMs = text.pipe(
  z.coerce.number<string | undefined>({ message: 'must be milliseconds' }).int('must be whole milliseconds').min(1, 'must be at least 1').max(600_000, 'must be at most 600000').optional(),
);
/** `key1=value1,key2=value2`, values percent-encoded (the spec's W3C Baggage-like list). */
const keyValueList = text.pipe(
  z
    .string()
    .transform((s, ctx) => {
      const pairs: Record<string, string> = {};
      for (const item of s.split(',').map((p) => p.trim()).filter(Boolean)) {
        const eq = item.indexOf('=');
        const key = eq > 0 ? item.slice(0, eq).trim() : '';
        if (!key) {
          ctx.addIssue({ code: 'custom', message: 'must be a comma-separated list of key=value' });
          return z.NEVER;
        }
        try {
          pairs[key] = decodeURIComponent(item.slice(eq + 1).trim());
        } catch {
          ctx.addIssue({ code: 'custom', message: `has a value that is not percent-encoded (key ${key})` });
          return z.NEVER;
        }
      }
      return pairs;
    })
    .optional(),
);

export const tracingEnvSchema = {
  OTEL_SDK_DISABLED: text.pipe(z.enum(['true', 'false'], { message: 'must be true or false' }).default('false')),
  OTEL_TRACES_EXPORTER: text.pipe(z.enum(['otlp', 'none'], { message: 'must be otlp or none (the only trace exporter built in is OTLP)' }).optional()),
  OTEL_EXPORTER_OTLP_ENDPOINT: text.pipe(httpUrl.optional()),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: text.pipe(httpUrl.optional()),
  OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: protocol,
  OTEL_EXPORTER_OTLP_HEADERS: keyValueList,
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: keyValueList,
  OTEL_EXPORTER_OTLP_TIMEOUT: timeoutMs,
  OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: timeoutMs,
  OTEL_SERVICE_NAME: text,
  OTEL_RESOURCE_ATTRIBUTES: keyValueList,
  OTEL_TRACES_SAMPLER: text.pipe(z.enum(SAMPLERS, { message: `must be one of ${SAMPLERS.join(', ')}` }).default('parentbased_always_on')),
  OTEL_TRACES_SAMPLER_ARG: text.pipe(
    z.coerce.number<string | undefined>({ message: 'must be a number from 0 to 1' }).min(0, 'must be from 0 to 1').max(1, 'must be from 0 to 1').optional(),
  ),
};

type TracingEnv = z.output<z.ZodObject<typeof tracingEnvSchema>>;

/** The traces URL the spec derives: the signal's own endpoint as given, else the base endpoint + /v1/traces. */
function tracesUrlOf(e: TracingEnv): string | undefined {
  if (e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = e.OTEL_EXPORTER_OTLP_ENDPOINT ?? (e.OTEL_TRACES_EXPORTER === 'otlp' ? DEFAULT_OTLP_HTTP_ENDPOINT : undefined);
  return base === undefined ? undefined : `${base.replace(/\/+$/, '')}/v1/traces`;
}

/** undefined: tracing is off (nothing is set up, no interceptor is installed, no span is made). */
export function tracingConfig(e: TracingEnv, defaultServiceName: string): TracingConfig | undefined {
  if (e.OTEL_SDK_DISABLED === 'true' || e.OTEL_TRACES_EXPORTER === 'none') return undefined;
  const tracesUrl = tracesUrlOf(e);
  if (tracesUrl === undefined) return undefined;
  const sampler = e.OTEL_TRACES_SAMPLER;
  return {
    serviceName: e.OTEL_SERVICE_NAME ?? e.OTEL_RESOURCE_ATTRIBUTES?.['service.name'] ?? defaultServiceName,
    tracesUrl,
    headers: { ...e.OTEL_EXPORTER_OTLP_HEADERS, ...e.OTEL_EXPORTER_OTLP_TRACES_HEADERS },
    timeoutMs: e.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? e.OTEL_EXPORTER_OTLP_TIMEOUT ?? 10_000,
    resourceAttributes: e.OTEL_RESOURCE_ATTRIBUTES ?? {},
    sampler: { name: sampler, ratio: sampler.endsWith('traceidratio') ? (e.OTEL_TRACES_SAMPLER_ARG ?? 1) : 1 },
  };
}
