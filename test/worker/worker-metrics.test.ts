/**
 * The funnel over time on a worker process's own Prometheus endpoint (WORKER_METRICS_PORT): a
 * discovery finds a WABA and onboards it to READY on a worker started from worker/main.ts, and its
 * /metrics shows the status transitions, the time to READY and in AWAITING_TERMS, the discovery's
 * outcome, the partner callbacks and a Graph error, named exactly as temporal/worker-metrics.ts says,
 * every line labelled with the worker's build. The workflows count without writing to Temporal:
 * their history replays with no new command, and each transition is counted once although the
 * worker's cache of 2 workflows makes it replay them.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { freePort } from '../../scripts/dev-server';
import { loadConfig } from '../../config';
import { createSandbox, type Sandbox } from '../../sandbox';
import { workflowBundleOptions } from '../../worker/workflow-bundle';
import { discoveryStartOptions } from '../../workflows/start-options';
import { onboardingWorkflowId } from '../../workflows/types';
import { discoveryWorkflowId } from '../../workflows/discovery-types';
import { getStateQuery } from '../../workflows/messages';
import { deploymentVersion, versionLabel } from '../../temporal/deployment-version';
import {
  AWAITING_TERMS_METRIC,
  DISCOVERY_OUTCOMES_METRIC,
  GRAPH_ERRORS_METRIC,
  PARTNER_CALLBACK_DELIVERIES_METRIC,
  STATUS_TRANSITIONS_METRIC,
  TIME_TO_READY_METRIC,
} from '../../temporal/worker-metrics';
import type { OnboardingState } from '../../workflows/types';
import { startFromSource, type ServiceProcess } from '../harness/image-build';
import { FAST, TEST_SECRETS, testServiceEnv } from '../harness/stack';
import { eventually } from '../harness/wait';

// A worker process (and a workflow bundle) on a shared 2-core machine.
jest.setTimeout(240_000);

let connection: Connection;
let client: Client;
let sandbox: Sandbox;
let sandboxUrl: string;
let worker: ServiceProcess | undefined;
let partner: Server;
let tmp: string;
let bundleCode: string;
const callbacks: Array<{ status: string; answered: number }> = [];

beforeAll(async () => {
  connection = await Connection.connect({ address: process.env.TEMPORAL_TEST_ADDRESS! });
  client = new Client({ connection });
  sandbox = createSandbox({ appId: TEST_SECRETS.appId, appSecret: TEST_SECRETS.appSecret, accessToken: TEST_SECRETS.accessToken });
  sandboxUrl = (await sandbox.listen(0)).url;
  tmp = mkdtempSync(path.join(tmpdir(), 'mm-worker-metrics-'));
  ({ code: bundleCode } = await bundleWorkflowCode({ ...workflowBundleOptions, logger: new DefaultLogger('WARN') }));
  writeFileSync(path.join(tmp, 'workflow-bundle.js'), bundleCode);
  // The partner's backend: the first callback finds it down (500), the second refused (410), the rest taken.
  partner = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString('utf8')));
    req.on('end', () => {
      const answered = callbacks.length === 0 ? 500 : callbacks.length === 1 ? 410 : 200;
      callbacks.push({ status: (JSON.parse(body) as { status: string }).status, answered });
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((resolve) => partner.listen(0, '127.0.0.1', resolve));
}, 120_000);

afterAll(async () => {
  await worker?.stop(10_000);
  await new Promise((resolve) => partner?.close(resolve));
  await sandbox?.close();
  await connection?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format's samples (no escapes in our label values). */
function samples(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m) throw new Error(`not a sample line: ${line}`);
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k, v]));
      return { name: m[1], labels, value: Number(m[3]) };
    });
}

const find = (all: Sample[], name: string, labels: Record<string, string> = {}) =>
  all.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
const total = (all: Sample[], name: string, labels: Record<string, string> = {}) => find(all, name, labels).reduce((n, s) => n + s.value, 0);

/**
 * Checks a figure a workflow counted: 1, or more only by the run's workflow tasks that timed out or
 * failed (each ran its code again). Never more: a count that grew on replay fails.
 */
async function onceOrRetried(handle: WorkflowHandle): Promise<(n: number, what: string) => void> {
  const { events } = await handle.fetchHistory();
  const retried = (events ?? []).filter((e) => e.workflowTaskTimedOutEventAttributes || e.workflowTaskFailedEventAttributes).length;
  return (n, what) => {
    if (n < 1 || n > 1 + retried) throw new Error(`${what} counted ${n} times: once expected, or once more per workflow task that timed out or failed (${retried} in the run's history)`);
  };
}

test("a discovery's onboarding to READY shows on the worker's /metrics: transitions, durations, outcomes, callbacks and Graph errors, each labelled with the build, and replay adds no command", async () => {
  const taskQueue = `worker-metrics-${randomUUID()}`;
  const metricsPort = await freePort();
  const env = testServiceEnv(
    { temporalAddress: process.env.TEMPORAL_TEST_ADDRESS!, taskQueue, graphUrl: sandboxUrl },
    {
      WORKFLOW_BUNDLE_PATH: path.join(tmp, 'workflow-bundle.js'),
      WORKER_METRICS_PORT: String(metricsPort),
      // Fewer cached workflows than this test runs (discovery, onboarding, the business's Intent request): the worker replays.
      WORKER_MAX_CACHED_WORKFLOWS: '2',
      PARTNER_CALLBACK_URL: `http://127.0.0.1:${(partner.address() as AddressInfo).port}/callbacks`,
      PARTNER_CALLBACK_SECRET: 'partner-callback-secret',
      GRAPH_MAX_RPS: '1000',
    },
  );
  const build = versionLabel(deploymentVersion(loadConfig(env)));
  worker = startFromSource('worker/main.ts', env);
  const scrape = async () => samples(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
  await eventually(async () => ((await scrape().catch(() => undefined)) ? true : undefined), 90_000, `the worker's /metrics; ${worker.output()}`);

  const world = sandbox.world;
  const owner = world.createBusiness();
  const portfolio = world.createBusiness();
  const waba = world.createWaba({ partnerBusinessId: portfolio.id, ownerBusinessId: owner.id, onboardingStatus: 'ELIGIBLE', autoSign: false });
  // Meta's first answer to the status read while the WABA waits for the terms is a transient error (code 2), retried.
  world.injectFault({ endpoint: 'waba_status', wabaId: waba.id, kind: 'transient', times: 1 });
  await client.workflow.start('discovery', { ...discoveryStartOptions({ businessId: portfolio.id, path: 'intent', options: FAST }), taskQueue });

  const onboarding = client.workflow.getHandle(onboardingWorkflowId(waba.id));
  const stateIs = (status: string) =>
    eventually(async () => {
      const state = await onboarding.query(getStateQuery).catch(() => undefined);
      return state?.status === status ? state : undefined;
    }, 90_000, `WABA ${waba.id} in ${status}; ${worker!.output().slice(-2_000)}`);
  await stateIs('AWAITING_TERMS');
  await world.signTerms(waba.id);
  const ready: OnboardingState = await stateIs('READY');
  await eventually(async () => (callbacks.some((c) => c.status === 'READY' && c.answered === 200) ? true : undefined), 90_000, 'the READY callback');
  await client.workflow.getHandle(discoveryWorkflowId(portfolio.id)).result();

  const statuses: string[] = ready.history.map((h) => h.status);
  expect(statuses).toEqual(['CHECKING_ELIGIBILITY', 'REQUESTING_INTENT', 'AWAITING_TERMS', 'SYNCING_TEMPLATES', 'READY']);
  const pairs = statuses.map((to, i) => ({ from: i === 0 ? 'none' : statuses[i - 1], to }));

  // Every figure as the exporter shows it; counters may lag a scrape behind the run by a moment.
  const metrics = await eventually(async () => {
    const all = await scrape();
    const delivered = callbacks.filter((c) => c.answered === 200).length;
    return total(all, PARTNER_CALLBACK_DELIVERIES_METRIC, { result: 'delivered' }) === delivered && total(all, STATUS_TRANSITIONS_METRIC, { to: 'READY' }) > 0 ? all : undefined;
  }, 30_000, 'the delivered callbacks counted');

  // Each transition once, though the worker evicted workflows and replayed them; labelled from, to, path and build.
  // The SDK's meter is silent on replay, not on a workflow task that timed out or failed (a starved
  // worker ran it, the server did not take its answer): that task's code ran once more, its figures
  // with it. So each figure is once, plus at most one per such task in the run's history.
  const once = await onceOrRetried(onboarding);
  expect(total(metrics, 'temporal_sticky_cache_total_forced_eviction')).toBeGreaterThan(0);
  expect(total(metrics, 'temporal_sticky_cache_miss')).toBeGreaterThan(0);
  const transitions = find(metrics, STATUS_TRANSITIONS_METRIC).map((s) => ({ from: s.labels.from, to: s.labels.to, n: s.value })).sort((a, b) => statuses.indexOf(a.to) - statuses.indexOf(b.to));
  expect(transitions.map(({ from, to }) => ({ from, to }))).toEqual(pairs);
  for (const t of transitions) once(t.n, `${t.from} → ${t.to}`);
  for (const s of find(metrics, STATUS_TRANSITIONS_METRIC)) expect(s.labels).toMatchObject({ path: 'intent', build, workflowType: 'onboarding' });

  // Histograms in seconds, by path, with the funnel's buckets: a run of seconds lands in the first ones.
  const startedAt = Date.parse(ready.history[0].at);
  const readySeconds = (Date.parse(ready.readyAt!) - startedAt) / 1000;
  const readyCount = total(metrics, `${TIME_TO_READY_METRIC}_count`, { path: 'intent', build });
  once(readyCount, 'time to READY');
  // From the onboarding's first status (kept from run to run) to READY.
  expect(total(metrics, `${TIME_TO_READY_METRIC}_sum`, { path: 'intent' }) / readyCount).toBeCloseTo(readySeconds, 3);
  expect(find(metrics, `${TIME_TO_READY_METRIC}_bucket`, { path: 'intent' }).map((s) => s.labels.le)).toEqual(
    expect.arrayContaining(['10', '60', '86400', '2592000', '+Inf']),
  );
  const awaiting = ready.history.findIndex((h) => h.status === 'AWAITING_TERMS');
  const awaitedSeconds = (Date.parse(ready.history[awaiting + 1].at) - Date.parse(ready.history[awaiting].at)) / 1000;
  const awaitedCount = total(metrics, `${AWAITING_TERMS_METRIC}_count`, { path: 'intent', build });
  once(awaitedCount, 'time awaiting the terms');
  expect(total(metrics, `${AWAITING_TERMS_METRIC}_sum`, { path: 'intent' }) / awaitedCount).toBeCloseTo(awaitedSeconds, 3);

  // The discovery's one WABA, started; the callbacks as the partner's backend answered them.
  expect(find(metrics, DISCOVERY_OUTCOMES_METRIC).map((s) => [s.labels.outcome, s.labels.build])).toEqual([['started', build]]);
  (await onceOrRetried(client.workflow.getHandle(discoveryWorkflowId(portfolio.id))))(total(metrics, DISCOVERY_OUTCOMES_METRIC), 'the discovery outcome');
  expect(total(metrics, PARTNER_CALLBACK_DELIVERIES_METRIC, { result: 'failed', build })).toBe(1);
  expect(total(metrics, PARTNER_CALLBACK_DELIVERIES_METRIC, { result: 'refused', build })).toBe(1);

  // The injected Graph error, by path template (no id in any endpoint label) and Meta's code.
  expect(total(metrics, GRAPH_ERRORS_METRIC, { endpoint: '/{id}', code: '2', build })).toBe(1);
  for (const s of find(metrics, GRAPH_ERRORS_METRIC)) expect(s.labels.endpoint).not.toMatch(/\d/);

  // No prefix or suffix was added to ours; the SDK's own metrics carry the build too.
  expect(metrics.some((s) => s.name.startsWith('temporal_') && s.labels.build === build)).toBe(true);
  expect(metrics.filter((s) => /^temporal_mm_|^mm_.*_total_total$|_seconds_seconds/.test(s.name))).toEqual([]);

  // Replay: the run's history, replayed on the same workflow code, asks for no command it did not record.
  const history = await onboarding.fetchHistory();
  await expect(Worker.runReplayHistory({ workflowBundle: { code: bundleCode }, replayName: 'worker-metrics' }, history)).resolves.toBeUndefined();
});
