/**
 * Tracing's workflow interceptors (telemetry/workflow-interceptors.ts) act only for a run whose start
 * carried trace context: such a run passes its trace on to the activities it schedules, while a run
 * started without one (tracing off in whoever started it) schedules exactly the commands an untraced
 * build does, with no trace header, even on a worker that traces.
 */
import { Client } from '@temporalio/client';
import { trace } from '@opentelemetry/api';
import { startStack, FAST, type Stack } from '../harness/stack';
import { startTracing, type Tracing } from '../../telemetry/tracer-provider';
import { tracingClientInterceptors } from '../../telemetry/temporal-tracing';
import { onboardingStartOptions } from '../../api/partner/onboarding-client';
import type { OnboardingInput } from '../../workflows/types';
import { defaultPayloadConverter } from '@temporalio/common';

let stack: Stack;
let tracing: Tracing | undefined;

beforeAll(async () => {
  // This process traces (its workers get the activity interceptors and the span sink); the spans go
  // to a port nobody listens on, which the exporter shrugs off.
  tracing = startTracing({
    serviceName: 'tracing-interceptors-test',
    tracesUrl: 'http://127.0.0.1:9/v1/traces',
    headers: {},
    timeoutMs: 1_000,
    resourceAttributes: {},
    sampler: { name: 'parentbased_always_on', ratio: 1 },
  });
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
  await tracing?.shutdown();
});

/** The `_tracer-data` header of each ActivityTaskScheduled event of the run, decoded (undefined: none). */
async function activityTraceHeaders(client: Client, workflowId: string): Promise<Array<Record<string, string> | undefined>> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? [])
    .filter((e) => e.activityTaskScheduledEventAttributes)
    .map((e) => {
      const payload = e.activityTaskScheduledEventAttributes!.header?.fields?.['_tracer-data'];
      return payload ? defaultPayloadConverter.fromPayload<Record<string, string>>(payload) : undefined;
    });
}

async function startedOnboarding(client: Client): Promise<string> {
  const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'ONBOARDED' });
  const input: OnboardingInput = { wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: FAST };
  const handle = await client.workflow.start('onboarding', onboardingStartOptions(input, stack.config));
  await stack.waitForStatus(waba.id, 'READY');
  return handle.workflowId;
}

test('a run started with trace context hands its trace to every activity it schedules', async () => {
  const tracedClient = new Client({ connection: stack.connection, namespace: stack.config.temporal.namespace, interceptors: tracingClientInterceptors() });
  let traceId = '';
  const workflowId = await trace.getTracer('test').startActiveSpan('partner request', async (span) => {
    traceId = span.spanContext().traceId;
    try {
      return await startedOnboarding(tracedClient);
    } finally {
      span.end();
    }
  });

  const headers = await activityTraceHeaders(stack.client, workflowId);
  expect(headers.length).toBeGreaterThan(0);
  for (const carrier of headers) expect(carrier?.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
});

test('a run started without trace context schedules its activities with no trace header, on a worker that traces', async () => {
  const workflowId = await startedOnboarding(stack.client);

  const headers = await activityTraceHeaders(stack.client, workflowId);
  expect(headers.length).toBeGreaterThan(0);
  expect(headers).toEqual(headers.map(() => undefined));
});
