/**
 * Tracing through Temporal with @temporalio/interceptors-opentelemetry: a client call (start, signal,
 * signal-with-start, query, update) gets a span and carries its context in the call's headers; the
 * workflow's spans continue it (telemetry/workflow-interceptors.ts) and pass it on to the activities
 * it schedules, whose spans continue it in the worker. Off: no interceptor at all, so no header is
 * added and no workflow command changes.
 */
import type { ClientInterceptors } from '@temporalio/client';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  type OpenTelemetrySinks,
} from '@temporalio/interceptors-opentelemetry';
import type { InjectedSinks, WorkerOptions } from '@temporalio/worker';
import { runningTracing } from './tracer-provider';

/** The Temporal client's interceptors: the tracing one while this process traces (startTracing), none otherwise. */
export function tracingClientInterceptors(): ClientInterceptors {
  return runningTracing() ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } : {};
}

/**
 * A worker's tracing: the activity interceptors while this process traces, and always the sink the
 * workflow spans leave the sandbox by (a run started with trace context is traced whatever this
 * worker does; without tracing here its spans are dropped instead of warned about as an unknown sink).
 */
export function workerTracing(): Required<Pick<WorkerOptions, 'sinks'>> & { activityInterceptors: NonNullable<NonNullable<WorkerOptions['interceptors']>['activity']> } {
  const tracing = runningTracing();
  const sinks: InjectedSinks<OpenTelemetrySinks> = {
    exporter: tracing ? makeWorkflowExporter(tracing.spanProcessor, tracing.resource) : { export: { fn: () => undefined } },
  };
  return {
    sinks,
    activityInterceptors: tracing
      ? [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })]
      : [],
  };
}
