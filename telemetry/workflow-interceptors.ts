/**
 * The workflow side of tracing, bundled with the workflow code (worker/workflow-bundle.ts): a run
 * whose start carried trace context (the client interceptor of a process that traces put it in the
 * start's headers) gets @temporalio/interceptors-opentelemetry's workflow interceptors: spans for
 * the run, its signals, updates and queries, and for each activity, child workflow, signal and
 * continue-as-new it asks for, whose context travels on in that command's headers.
 *
 * Any other run (tracing off everywhere, or a run a Schedule started) never loads them: its commands
 * are exactly those of an untraced build. The choice is made from the run's first activation, which
 * a replay sees the same, so it is deterministic.
 */
import {
  defaultPayloadConverter,
  type Next,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptors,
  type WorkflowInternalsInterceptor,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import type { Payload } from '@temporalio/common';

/** The header the OpenTelemetry interceptors carry context in (their TRACE_HEADER). */
const TRACE_HEADER = '_tracer-data';

/** Whether the start's headers hold a W3C trace context (a client without a tracer sends an empty one). */
export function carriesTraceContext(headers: Record<string, Payload> | null | undefined): boolean {
  const payload = headers?.[TRACE_HEADER];
  if (!payload) return false;
  try {
    const carrier = defaultPayloadConverter.fromPayload<Record<string, unknown> | null>(payload);
    return typeof carrier?.traceparent === 'string';
  } catch {
    return false;
  }
}

type Otel = { inbound: WorkflowInboundCallsInterceptor; outbound: WorkflowOutboundCallsInterceptor; internals: WorkflowInternalsInterceptor };

/** Loaded only for a traced run: the module patches the sandbox's globals (performance, window) for OpenTelemetry. */
function openTelemetryInterceptors(): Otel {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const otel = require('@temporalio/interceptors-opentelemetry/lib/workflow') as typeof import('@temporalio/interceptors-opentelemetry/lib/workflow');
  return {
    inbound: new otel.OpenTelemetryInboundInterceptor(),
    outbound: new otel.OpenTelemetryOutboundInterceptor(),
    internals: new otel.OpenTelemetryInternalsInterceptor(),
  };
}

export const interceptors = (): WorkflowInterceptors => {
  let otel: Otel | undefined;
  /** `method` of the OpenTelemetry interceptor for a traced run; straight to `next` otherwise. */
  const via =
    (side: (o: Otel) => object, method: string) =>
    (input: unknown, next: (input: unknown) => unknown): unknown => {
      const interceptor = otel && (side(otel) as Record<string, ((input: unknown, next: unknown) => unknown) | undefined>);
      const target = interceptor?.[method];
      return target ? target.call(interceptor, input, next) : next(input);
    };
  const inbound = (m: keyof WorkflowInboundCallsInterceptor) => via((o) => o.inbound, m) as never;
  const outbound = (m: keyof WorkflowOutboundCallsInterceptor) => via((o) => o.outbound, m) as never;

  const internals: WorkflowInternalsInterceptor = {
    activate(input, next: Next<WorkflowInternalsInterceptor, 'activate'>) {
      // The first activation starts the run; its headers are the start's (and a signal-with-start's).
      const start = input.activation.jobs?.find((job) => job.initializeWorkflow)?.initializeWorkflow;
      if (start && !otel && carriesTraceContext(start.headers as Record<string, Payload> | null | undefined)) otel = openTelemetryInterceptors();
      return next(input);
    },
    dispose: via((o) => o.internals, 'dispose') as never,
  };
  return {
    inbound: [
      {
        execute: inbound('execute'),
        handleSignal: inbound('handleSignal'),
        handleUpdate: inbound('handleUpdate'),
        validateUpdate: inbound('validateUpdate'),
        handleQuery: inbound('handleQuery'),
      },
    ],
    outbound: [
      {
        scheduleActivity: outbound('scheduleActivity'),
        scheduleLocalActivity: outbound('scheduleLocalActivity'),
        startChildWorkflowExecution: outbound('startChildWorkflowExecution'),
        startNexusOperation: outbound('startNexusOperation'),
        continueAsNew: outbound('continueAsNew'),
        signalWorkflow: outbound('signalWorkflow'),
        getLogAttributes: outbound('getLogAttributes'),
      },
    ],
    internals: [internals],
  };
};
