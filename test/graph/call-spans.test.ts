/**
 * With a tracer provider registered (tracing on), every Graph HTTP call is a CLIENT span under the
 * caller's span, saying method, path, host and status, and nothing of the query, the token or the
 * OAuth code.
 */
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { GraphClient } from '../../graph';
import { createSandbox, type Sandbox } from '../../sandbox';

const TOKEN = 'EAAGsystemUserToken0123456789abcdef';
const APP_SECRET = 'app-secret-5f1e2d3c4b5a69788796a5b4';

const spans = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
let sandbox: Sandbox;
let graph: GraphClient;

beforeAll(async () => {
  provider.register();
  sandbox = createSandbox({ appId: 'app', appSecret: APP_SECRET, accessToken: TOKEN });
  const { url } = await sandbox.listen(0);
  graph = new GraphClient({ baseUrl: url, version: 'v24.0', accessToken: TOKEN, appId: 'app', appSecret: APP_SECRET, timeoutMs: 5_000 });
});
afterAll(async () => {
  await graph.close();
  await sandbox.close();
  await provider.shutdown();
});
beforeEach(() => spans.reset());

const inSpan = <T>(fn: () => Promise<T>) => trace.getTracer('test').startActiveSpan('activity', async (parent) => {
  try {
    return { result: await fn(), parent: parent.spanContext() };
  } finally {
    parent.end();
  }
});

test('a Graph call is a CLIENT span under the caller, named by method and path, with its status', async () => {
  const waba = sandbox.world.createWaba({ onboardingStatus: 'ONBOARDED' });
  const { parent } = await inSpan(() => graph.getWabaOnboardingStatus(waba.id));

  const call = spans.getFinishedSpans().find((s) => s.name !== 'activity')!;
  expect(call.name).toBe(`GET /v24.0/${waba.id}`);
  expect(call.parentSpanId).toBe(parent.spanId);
  expect(call.spanContext().traceId).toBe(parent.traceId);
  expect(call.attributes).toMatchObject({ 'http.request.method': 'GET', 'url.path': `/v24.0/${waba.id}`, 'server.address': '127.0.0.1', 'http.response.status_code': 200 });
});

test('a refused call is marked failed with its status as error type, and no span holds the query, the token or the code', async () => {
  await inSpan(() => graph.exchangeCode('an-oauth-code-never-issued').catch(() => undefined));
  await inSpan(() => graph.getWabaOnboardingStatus('999999999', 'EAAGsomeoneElsesToken').catch(() => undefined));

  const calls = spans.getFinishedSpans().filter((s) => s.name !== 'activity');
  expect(calls.map((s) => [s.name, s.attributes['http.response.status_code'], s.status.code, s.attributes['error.type']])).toEqual([
    ['GET /v24.0/oauth/access_token', 400, SpanStatusCode.ERROR, '400'],
    ['GET /v24.0/999999999', expect.any(Number), SpanStatusCode.ERROR, expect.stringMatching(/^4\d\d$/)],
  ]);
  const everything = JSON.stringify(calls.map((s) => ({ name: s.name, attributes: s.attributes, status: s.status, events: s.events })));
  expect(everything).not.toMatch(/an-oauth-code-never-issued|EAAG|app-secret|client_secret|fields=/);
});
