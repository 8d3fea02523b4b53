/**
 * `npm run test:traces`: one trace from Meta's webhook to the Graph call it leads to, read back from a
 * real Jaeger. `npm start` (embedded dev server, sandbox Graph) runs with OTEL_EXPORTER_OTLP_ENDPOINT
 * pointing at Jaeger; a signed MM_LITE_TERMS_SIGNED webhook for a WABA nobody onboards yet makes the
 * receiver signal-with-start a manual onboarding, whose workflow schedules the activity that reads the
 * WABA's status from Graph. Jaeger's query API must then hold one trace with all of them, linked
 * parent to child, and the API's JSON log line of that delivery must carry the trace's id.
 */
import { hubSignature256 } from '../../sandbox';
import { SANDBOX_DEFAULTS } from '../../config';
import { killEverything, removeTmpDirs, spawnNpmStart, waitUntilServing, type StartedNpm } from '../harness/npm-start';
import { startJaeger, type Jaeger, type JaegerSpan, type JaegerTrace } from '../harness/jaeger';
import { eventually } from '../harness/wait';

jest.setTimeout(300_000);

const SERVICE = 'mm-onboarding-traces-test';
let jaeger: Jaeger;
let stack: StartedNpm;

beforeAll(async () => {
  jaeger = await startJaeger();
  stack = await spawnNpmStart({
    OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint,
    OTEL_SERVICE_NAME: SERVICE,
    // The SDK's own batch setting (it reads it, as the spec says): spans leave within a second.
    OTEL_BSP_SCHEDULE_DELAY: '500',
  });
  await waitUntilServing(stack, 180_000);
});

afterAll(async () => {
  await killEverything();
  removeTmpDirs();
  await jaeger?.stop();
});

type SandboxWaba = { id: string; ownerBusinessId: string; partnerBusinessId: string };

/** A WABA in the sandbox whose terms are signed, with no onboarding in Temporal yet. */
async function signedWaba(): Promise<SandboxWaba> {
  const res = await fetch(`http://127.0.0.1:${stack.ports.sandbox}/_sandbox/wabas`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ onboardingStatus: 'ONBOARDED', autoSign: false }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as SandboxWaba;
}

/** Meta's delivery of MM_LITE_TERMS_SIGNED, signed with the (sandbox) app secret as Meta signs. */
async function deliverTermsSigned(waba: SandboxWaba): Promise<number> {
  const body = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: waba.partnerBusinessId,
        time: Math.floor(Date.now() / 1000),
        changes: [{ field: 'account_update', value: { event: 'MM_LITE_TERMS_SIGNED', waba_info: { owner_business_id: waba.ownerBusinessId, waba_id: waba.id } } }],
      },
    ],
  });
  const res = await fetch(`http://127.0.0.1:${stack.ports.api}/webhooks/whatsapp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': hubSignature256(body, SANDBOX_DEFAULTS.appSecret) },
    body,
  });
  return res.status;
}

const parentOf = (span: JaegerSpan) => span.references.find((r) => r.refType === 'CHILD_OF')?.spanID;

/** The trace's spans by name, each with its parent's name (or id when the parent is not in the trace). */
function outline(trace: JaegerTrace): string[] {
  const byId = new Map(trace.spans.map((s) => [s.spanID, s]));
  return trace.spans.map((s) => {
    const parent = parentOf(s);
    return `${s.operationName} <- ${parent === undefined ? '(root)' : (byId.get(parent)?.operationName ?? `(span ${parent}, not in the trace)`)}`;
  });
}

test('a signed webhook, the signal-with-start it makes, the workflow, its activity and the Graph call are one trace in Jaeger, whose id the JSON log line carries', async () => {
  const waba = await signedWaba();
  expect(await deliverTermsSigned(waba)).toBe(200);

  const graphCall = (s: JaegerSpan) => s.operationName.startsWith('GET /v') && s.operationName.includes(`/${waba.id}`);
  // The webhook's trace is the one with this WABA's Graph call in it; its spans arrive in batches.
  const trace = await eventually(
    async () => {
      const traces = await jaeger.traces(SERVICE);
      const found = traces.find((t) => t.spans.some((s) => s.operationName === 'POST /webhooks/whatsapp') && t.spans.some(graphCall));
      // The workflow's StartActivity span ends (and leaves) once the activity's result is back in the workflow.
      const ids = new Set(found?.spans.map((s) => s.spanID));
      const chain = (span: JaegerSpan | undefined, depth: number): boolean =>
        depth === 0 || (span !== undefined && ids.has(parentOf(span) ?? '') && chain(found!.spans.find((s) => s.spanID === parentOf(span)), depth - 1));
      return found && chain(found.spans.find(graphCall), 2) ? found : undefined;
    },
    120_000,
    () => `a trace from the webhook to GET /v…/${waba.id} in Jaeger\n--- npm start ---\n${stack.output().slice(-3000)}\n--- jaeger ---\n${jaeger.output().slice(-2000)}`,
  );
  console.log(`trace ${trace.traceID}:\n${outline(trace).join('\n')}`);

  const named = (what: string, match: (s: JaegerSpan) => boolean) => {
    const span = trace.spans.find(match);
    if (!span) throw new Error(`no ${what} span in the trace:\n${outline(trace).join('\n')}`);
    return span;
  };
  const webhook = named('webhook', (s) => s.operationName === 'POST /webhooks/whatsapp');
  const signal = named('signal-with-start', (s) => s.operationName === 'SignalWithStartWorkflow:onboarding');
  const handler = named("workflow's signal handler", (s) => s.operationName === 'HandleSignal:termsSigned');
  const graph = named('Graph call', graphCall);
  const runActivity = named('activity', (s) => s.spanID === parentOf(graph));
  const startActivity = named("workflow's activity", (s) => s.spanID === parentOf(runActivity));

  // Webhook handler → signal-with-start → the workflow (its signal handler; its run, which scheduled
  // the activity) → the activity → the Graph call: each the child of the one before.
  expect(parentOf(webhook)).toBeUndefined();
  expect(parentOf(signal)).toBe(webhook.spanID);
  expect(parentOf(handler)).toBe(signal.spanID);
  expect(runActivity.operationName).toMatch(/^RunActivity:/);
  expect(startActivity.operationName).toBe(runActivity.operationName.replace('RunActivity:', 'StartActivity:'));
  // The run's own span (the StartActivity's parent) is exported when the run ends; when it is in, it hangs under the signal-with-start.
  const run = trace.spans.find((s) => s.spanID === parentOf(startActivity));
  if (run) expect({ run: run.operationName, parent: parentOf(run) }).toEqual({ run: 'RunWorkflow:onboarding', parent: signal.spanID });

  // The Graph span says method, path and status, and nothing of the token.
  const tags = Object.fromEntries(graph.tags.map((t) => [t.key, t.value]));
  expect(tags).toMatchObject({ 'http.request.method': 'GET', 'http.response.status_code': 200 });
  expect(JSON.stringify(trace)).not.toContain(SANDBOX_DEFAULTS.accessToken);

  // The receiver's JSON line for this delivery carries the trace id and the webhook span's id.
  const delivery = stack
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.message === 'webhook delivery' && Array.isArray(l.wabas) && (l.wabas as string[]).includes(waba.id));
  expect(delivery).toMatchObject({ outcome: 'accepted', trace_id: trace.traceID, span_id: webhook.spanID });
});
