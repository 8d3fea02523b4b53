/**
 * SIGTERM drains. The API process stops accepting connections at once, still answers the requests
 * it has begun (a webhook answered 200 is in Temporal), and only then closes its Temporal connection.
 * A worker process lets the activity it is running finish before it exits.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { freePort } from '../../scripts/dev-server';
import { loadConfig } from '../../config';
import { workflowBundleOptions } from '../../worker/workflow-bundle';
import { createSandbox, type Sandbox } from '../../sandbox';
import { onboardingStartOptions } from '../../api/partner/onboarding-client';
import { WEBHOOK_PATH } from '../../api/webhooks/receiver';
import { signatureOf } from '../../api/webhooks/signature';
import { onboardingWorkflowId } from '../../workflows/types';
import { startFromSource, type ServiceProcess } from '../harness/image-build';
import { webhookBody } from '../harness/app-harness';
import { TEST_SECRETS, testServiceEnv, WEBHOOK_ONLY } from '../harness/stack';
import { eventually } from '../harness/wait';

// Each test starts a process (and bundles the workflows) on a shared 2-core machine.
jest.setTimeout(180_000);

const address = () => process.env.TEMPORAL_TEST_ADDRESS!;
let connection: Connection;
let client: Client;
let sandbox: Sandbox;
let sandboxUrl: string;
let tmp: string;
const running: ServiceProcess[] = [];

const serviceEnv = (taskQueue: string, extra: Record<string, string> = {}) =>
  testServiceEnv({ temporalAddress: address(), taskQueue, graphUrl: sandboxUrl }, extra);

beforeAll(async () => {
  connection = await Connection.connect({ address: address() });
  client = new Client({ connection });
  sandbox = createSandbox({ appId: TEST_SECRETS.appId, appSecret: TEST_SECRETS.appSecret, accessToken: TEST_SECRETS.accessToken });
  sandboxUrl = (await sandbox.listen(0)).url;
  tmp = mkdtempSync(path.join(tmpdir(), 'mm-shutdown-'));
});

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop(5_000)));
  await sandbox?.close();
  await connection?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** Sends the request line, headers and the first half of the body; the rest waits for `finish`. */
function halfSentRequest(port: number, body: string) {
  const socket: Socket = tcpConnect(port, '127.0.0.1');
  let answer = '';
  socket.setEncoding('utf8').on('data', (d: string) => (answer += d));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const half = Math.floor(body.length / 2);
  socket.write(
    `POST ${WEBHOOK_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
      `X-Hub-Signature-256: ${signatureOf(Buffer.from(body), TEST_SECRETS.appSecret)}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, half)}`,
  );
  return {
    finish: async () => {
      socket.write(body.slice(half));
      await closed.catch(() => undefined);
      await eventually(async () => (answer.includes('\r\n\r\n') ? true : undefined), 15_000, 'an answer');
      return Number(answer.split(' ')[1]);
    },
  };
}

const connectionRefused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = tcpConnect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });

test('SIGTERM: the API stops accepting at once, answers the webhook it had begun, and that one is in Temporal', async () => {
  const port = await freePort();
  const api = startFromSource('api/main.ts', serviceEnv(`shutdown-api-${randomUUID()}`, { PORT: String(port) }));
  running.push(api);
  await eventually(async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined), 60_000, `the API; ${api.output()}`);

  const wabaId = String(700_000_000_000 + Math.floor(Math.random() * 1e9));
  const body = webhookBody([
    { id: '990000000000001', changes: [{ field: 'account_update', value: { event: 'MM_LITE_TERMS_SIGNED', waba_info: { waba_id: wabaId, owner_business_id: '990000000000002' } } }] },
  ]);
  // Keep-alive connection held idle: it must not keep the process from stopping.
  const idle = tcpConnect(port, '127.0.0.1');
  const inFlight = halfSentRequest(port, body);
  await new Promise((r) => setTimeout(r, 200));

  api.child.kill('SIGTERM');
  await eventually(async () => ((await connectionRefused(port)) ? true : undefined), 10_000, 'the listening socket to close');
  expect(api.child.exitCode).toBeNull(); // still draining the request it has begun

  expect(await inFlight.finish()).toBe(200);
  expect(await api.exited).toEqual({ code: 0, signal: null });
  idle.destroy();
  expect(api.output()).toMatch(/stopping: no new connections[\s\S]*stopped/);

  // Answered 200, so the signal is in Temporal's history.
  const handle = client.workflow.getHandle(onboardingWorkflowId(wabaId));
  const { events } = await handle.fetchHistory();
  expect(events?.some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'termsSigned')).toBe(true);
  await handle.terminate('test cleanup');
});

test('SIGTERM: a worker lets its running activity finish, then exits', async () => {
  const taskQueue = `shutdown-worker-${randomUUID()}`;
  const { code } = await bundleWorkflowCode({ ...workflowBundleOptions, logger: new DefaultLogger('WARN') });
  const bundlePath = path.join(tmp, 'workflow-bundle.js');
  writeFileSync(bundlePath, code);
  const metricsPort = await freePort();
  let lastMetrics = '';
  const worker = startFromSource('worker/main.ts', serviceEnv(taskQueue, { WORKFLOW_BUNDLE_PATH: bundlePath, WORKER_METRICS_PORT: String(metricsPort) }));
  running.push(worker);

  const waba = sandbox.world.createWaba({ autoSign: false });
  // The eligibility read takes 4 s: the worker is in the middle of it when told to stop.
  sandbox.world.injectFault({ endpoint: 'waba_status', wabaId: waba.id, kind: 'latency', latencyMs: 4_000 });
  const config = loadConfig(serviceEnv(taskQueue));
  const handle = await client.workflow.start(
    'onboarding',
    onboardingStartOptions({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'intent', options: WEBHOOK_ONLY }, config),
  );
  const identity = `${worker.child.pid}@`;
  await eventually(async () => {
    const { raw } = await handle.describe();
    return raw.pendingActivities?.some((a) => a.lastWorkerIdentity?.startsWith(identity)) ? true : undefined;
  }, 60_000, `the worker to run the read; ${worker.output()}`);

  // Meta's usage headers of that read, on the worker's metrics endpoint (the Graph-ceiling alert), with
  // the pace they allow: the names and labels deploy/prometheus/ and docs/operations.md use.
  await eventually(async () => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    lastMetrics = text;
    const found = [
      /^mm_graph_usage_percent\{[^}]*header="business_use_case"[^}]*\} 1$/m,
      /^mm_graph_usage_percent\{[^}]*header="app"[^}]*\} 1$/m,
      /^mm_graph_allowed_calls_per_second(\{[^}]*\})? [1-9]/m,
      /^mm_graph_slowed_businesses(\{[^}]*\})? 0$/m,
    ].every((line) => line.test(text));
    return found ? true : undefined;
  }, 30_000, 'the Graph gauges').catch((err) => {
    throw new Error(`${err.message}\n${lastMetrics.split('\n').filter((l) => /graph|mm_/.test(l)).join('\n')}`);
  });

  worker.child.kill('SIGTERM');
  expect(await worker.exited).toEqual({ code: 0, signal: null });

  // The read it was running completed on that worker, first attempt, before the process went away.
  const reads = sandbox.world.calls.filter((c) => c.endpoint === 'waba_status' && c.wabaId === waba.id);
  expect(reads).toHaveLength(1);
  expect(reads[0].status).toBe(200);
  const { events } = await handle.fetchHistory();
  const completed = events?.filter((e) => e.activityTaskCompletedEventAttributes) ?? [];
  expect(completed.length).toBeGreaterThanOrEqual(1);
  expect(events?.some((e) => e.activityTaskStartedEventAttributes && (e.activityTaskStartedEventAttributes.attempt ?? 1) > 1)).toBe(false);
  await handle.terminate('test cleanup');
});
