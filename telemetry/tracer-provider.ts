/**
 * The process's OpenTelemetry tracer provider, when tracing is on (config/tracing.ts): spans go in
 * batches to the OTLP/HTTP endpoint; context follows async calls (AsyncLocalStorage), so the spans of
 * an HTTP request, the Temporal calls it makes and an activity's Graph calls nest. Off: nothing is
 * registered and every span the code asks for is OpenTelemetry's no-op one.
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { Resource } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { TracingConfig } from '../config';

export interface Tracing {
  /** Where the workers' workflow spans go too (they leave the workflow sandbox through a sink). */
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Sends the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

/** One per process: OpenTelemetry's provider is global, and `npm start` runs the API and the workers together. */
let running: Tracing | undefined;

export function startTracing(config: TracingConfig | undefined): Tracing | undefined {
  if (!config || running) return running;
  const resource = new Resource({ ...config.resourceAttributes, [ATTR_SERVICE_NAME]: config.serviceName });
  const exporter = new OTLPTraceExporter({ url: config.tracesUrl, headers: config.headers, timeoutMillis: config.timeoutMs });
  const spanProcessor = new BatchSpanProcessor(exporter);
  const provider = new NodeTracerProvider({ resource, sampler: samplerOf(config.sampler), spanProcessors: [spanProcessor] });
  provider.register();
  const tracing: Tracing = {
    spanProcessor,
    resource,
    shutdown: async () => {
      if (running !== tracing) return;
      running = undefined;
      // A collector that is down at our stop loses the last batch; that must not fail the stop.
      await provider.shutdown().catch(() => undefined);
    },
  };
  running = tracing;
  return tracing;
}

/** The tracing `startTracing` set up in this process, if any. */
export const runningTracing = (): Tracing | undefined => running;

function samplerOf({ name, ratio }: TracingConfig['sampler']): Sampler {
  const root = name.endsWith('always_off') ? new AlwaysOffSampler() : name.endsWith('traceidratio') ? new TraceIdRatioBasedSampler(ratio) : new AlwaysOnSampler();
  return name.startsWith('parentbased_') ? new ParentBasedSampler({ root }) : root;
}
