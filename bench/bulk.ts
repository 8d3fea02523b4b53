/**
 * Partner scale, end to end: one discovery onboards every ELIGIBLE client WABA of a big portfolio to
 * READY, and the same dev server runs a trivial workflow with the same signals and timers as the
 * ratio to beat.
 *
 * The baseline runs twice, before and after the onboardings, and the ratio is against both together.
 * The dev server costs more per workflow the more it stores (the same 2,000 trivial workflows took
 * 31.8 CPU-ms each on an empty server and 48.5 after 10,000 more): a baseline run only first, on the
 * empty server, would leave the onboardings to pay for its 10,000 runs and measure the order instead.
 *
 *   npm run bench:bulk -- [--wabas 10000] [--businesses 500] [--max-minutes 30] [--graph-rps 1000] [--worker-cache N]
 *
 * Everything stays on 127.0.0.1: a fresh Temporal dev server (in-memory SQLite), the Graph sandbox
 * (which "signs the terms" 1 s after each business's Intent request and delivers one signed
 * MM_LITE_TERMS_SIGNED webhook per WABA), the real API and webhook receiver in this process, and the
 * real worker (`worker/main.ts`) in a child process whose peak RSS is read from /proc. Timers are
 * compressed through the onboarding's options (grace 1 s; the hourly status poll never fires).
 * `--graph-rps` is GRAPH_MAX_RPS: the bench measures the service, not Meta's allowance (at the
 * default 10 calls/s, 10,000 WABAs need at least 35 minutes of Graph calls by construction).
 * Each phase is bounded by --max-minutes.
 */
import type { ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config';
import { createApp } from '../api/app';
import { silentLogger } from '../api/http/logger';
import { WEBHOOK_PATH } from '../api/webhooks/receiver';
import { createSandbox } from '../sandbox';
import { startDevServer, type DevServer } from '../scripts/dev-server';
import { discoveryWorkflowId } from '../workflows/discovery-types';
import { getDiscoveryStateQuery } from '../workflows/messages';
import { onboardingWorkflowId } from '../workflows/types';
import { BENCH_SECRETS, benchServiceEnv, boundedInt, spawnNode, treeCpuSeconds } from './common';
import { currentVersion } from '../temporal/deployment-version';
import { trivialWorkflowIds, type TrivialRunsPlan } from './trivial-driver';

const { values: args } = parseArgs({
  options: {
    wabas: { type: 'string', default: '10000' },
    businesses: { type: 'string', default: '500' },
    'max-minutes': { type: 'string', default: '30' },
    'graph-rps': { type: 'string', default: '1000' },
    'worker-cache': { type: 'string' },
  },
});
const wabaCount = boundedInt(args.wabas, 1, 50_000, 'wabas');
const businessCount = boundedInt(args.businesses, 1, wabaCount, 'businesses');
const maxMs = boundedInt(args['max-minutes'], 1, 120, 'max-minutes') * 60_000;
const graphRps = boundedInt(args['graph-rps'], 1, 100_000, 'graph-rps');
/** Both workers' WORKER_MAX_CACHED_WORKFLOWS (and a heap to hold them); unset: the SDK's default. */
const workerCache = args['worker-cache'] === undefined ? undefined : boundedInt(args['worker-cache'], 2, 100_000, 'worker-cache');
const workerTuning: Record<string, string> = workerCache
  ? { WORKER_MAX_CACHED_WORKFLOWS: String(workerCache), NODE_OPTIONS: `--max-old-space-size=${Math.max(4096, Math.ceil(workerCache / 2))}` }
  : {};

const SECRETS = BENCH_SECRETS;
const GRACE_SECONDS = 1;
const SIGN_AFTER_MS = 1_000;

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls a visibility count until it reaches `target` or the phase's time is up. Returns the time taken
 * and how many got there (fewer than `target` when the time ran out: the rate is then over those).
 */
async function waitForCount(
  client: Client,
  query: string,
  target: number,
  since: number,
  what: string,
  /** The process doing the work: when it has gone, nothing more will get there. */
  worker?: ChildProcess,
): Promise<{ ms: number; done: number }> {
  let last = -1;
  for (;;) {
    if (worker && (worker.exitCode !== null || worker.signalCode !== null)) throw new Error(`the worker exited (${worker.exitCode ?? worker.signalCode}) with ${last}/${target} ${what}`);
    const { count } = await client.workflow.count(query);
    if (count !== last) {
      last = count;
      process.stdout.write(`\r  ${what}: ${count}/${target} after ${((Date.now() - since) / 1000).toFixed(0)} s   `);
    }
    if (count >= target || Date.now() - since > maxMs) {
      process.stdout.write('\n');
      if (count < target) console.log(`  TIME UP: only ${count}/${target} ${what} after ${maxMs / 60_000} min; figures below are over those`);
      return { ms: Date.now() - since, done: count };
    }
    await sleep(1_000);
  }
}

/** CPU seconds each process spent from now until `read()`: where a phase's time went on the shared cores. */
function cpuMeter(devServerPid: number, workerPid: number) {
  const now = () => ({ devServer: treeCpuSeconds(devServerPid), worker: treeCpuSeconds(workerPid), bench: process.cpuUsage() });
  const start = now();
  return () => {
    const end = now();
    const own = process.cpuUsage(start.bench);
    return { devServer: end.devServer - start.devServer, worker: end.worker - start.worker, bench: (own.user + own.system) / 1e6 };
  };
}
type CpuSeconds = ReturnType<ReturnType<typeof cpuMeter>>;

type BaselineResult = Awaited<ReturnType<typeof runBaseline>>;

/** The two baseline runs as one: every workflow of both over their time together. */
function bothBaselines(before: BaselineResult, after: BaselineResult): BaselineResult {
  const done = before.done + after.done;
  const wallMs = before.wallMs + after.wallMs;
  const sum = (pick: (cpu: CpuSeconds) => number) => pick(before.cpu) + pick(after.cpu);
  return {
    wallMs,
    done,
    cpu: { devServer: sum((c) => c.devServer), worker: sum((c) => c.worker), bench: sum((c) => c.bench) },
    perSecond: done / (wallMs / 1000),
    historyPerWorkflow: (before.historyPerWorkflow + after.historyPerWorkflow) / 2,
    peakRssMb: Math.max(before.peakRssMb, after.peakRssMb),
  };
}

async function averageHistoryLength(client: Client, workflowIds: string[]): Promise<number> {
  const sample = workflowIds.filter((_, i) => i % Math.max(1, Math.floor(workflowIds.length / 50)) === 0).slice(0, 50);
  // Runs a time-limited phase never started are left out.
  const lengths = (await Promise.all(sample.map((id) => client.workflow.getHandle(id).describe().then((d) => d.historyLength, () => undefined)))).filter(
    (n): n is number => n !== undefined,
  );
  return lengths.length ? lengths.reduce((a, b) => a + b, 0) / lengths.length : NaN;
}

async function main() {
  console.log(
    `bulk bench: ${wabaCount} WABAs across ${businessCount} end businesses, GRAPH_MAX_RPS ${graphRps}, ` +
      `worker cache ${workerCache ?? "the SDK's default"}, node ${process.version}`,
  );
  console.log(`load average at start (1/5/15 min): ${load()}`);
  const devServer = await startDevServer({ readyTimeoutMs: 120_000 });
  const connection = await Connection.connect({ address: devServer.address });
  const client = new Client({ connection });
  const stops: Array<() => Promise<unknown>> = [];
  try {
    const before = await runBaseline(client, devServer, stops, 'before');
    const service = await runService(client, devServer, stops);
    const after = await runBaseline(client, devServer, stops, 'after');
    const baseline = bothBaselines(before, after);

    const ratio = service.perSecond / baseline.perSecond;
    console.log('\nresults');
    const row = (r: { done: number; wallMs: number; perSecond: number; historyPerWorkflow: number; peakRssMb: number }) => ({
      done: r.done,
      'wall s': +(r.wallMs / 1000).toFixed(1),
      'per s': +r.perSecond.toFixed(1),
      'history events / WF': +r.historyPerWorkflow.toFixed(1),
      'peak worker RSS MB': r.peakRssMb,
    });
    console.table({
      'trivial, before (empty server)': row(before),
      'mm-onboarding (discovery → READY)': row(service),
      'trivial, after': row(after),
      'trivial, both': row(baseline),
    });
    // Per 1,000 workflows, so the phases compare whatever their counts. The bench process is the
    // sandbox, API and receiver in phase 2 and only the progress counts in phases 1 and 3 (there the
    // baseline's worker process starts and signals its runs, as the service's worker starts its own).
    const cpuRow = (r: { done: number; cpu: CpuSeconds }) => {
      const per1000 = (s: number) => +((s * 1000) / Math.max(1, r.done)).toFixed(1);
      return { 'dev server': per1000(r.cpu.devServer), worker: per1000(r.cpu.worker), 'bench process': per1000(r.cpu.bench) };
    };
    console.log('CPU seconds per 1,000 workflows, by process:');
    console.table({ 'trivial, before': cpuRow(before), 'mm-onboarding': cpuRow(service), 'trivial, after': cpuRow(after) });
    console.log(`Graph calls per WABA: ${service.graphPerWaba.toFixed(2)} (target ≤ 4: ${service.graphBreakdown})`);
    console.log(`Graph calls per end business: ${service.graphPerBusiness.toFixed(2)}, of which Intent API requests: ${service.intentsPerBusiness.toFixed(2)} (target 1)`);
    console.log(`terms webhooks delivered through the receiver: ${service.webhooksDelivered}/${wabaCount}`);
    console.log(`onboardings/s ÷ trivial/s: ${ratio.toFixed(2)} (target ≥ 0.5; against the trivial before only ${(service.perSecond / before.perSecond).toFixed(2)}, after only ${(service.perSecond / after.perSecond).toFixed(2)})`);
    console.log(`load average at end (1/5/15 min): ${load()}`);
    if (ratio < 0.5 || service.graphPerWaba > 4 || service.intentsPerBusiness !== 1 || service.done < wabaCount) process.exitCode = 1;
  } finally {
    for (const stop of stops.reverse()) await stop().catch((err) => console.error(`while stopping: ${err}`));
    await connection.close();
    await devServer.stop();
  }
}

/**
 * The trivial workflow, N of them, started and signalled by their own worker process the way the
 * service starts and signals onboardings (bench/trivial-driver.ts); done when all have completed.
 */
async function runBaseline(client: Client, devServer: DevServer, stops: Array<() => Promise<unknown>>, round: 'before' | 'after') {
  const taskQueue = `bench-trivial-${round}-${Date.now()}`;
  const plan: TrivialRunsPlan = { idPrefix: `bench-trivial-${round}-`, count: wabaCount, graceSeconds: GRACE_SECONDS, signAfterMs: SIGN_AFTER_MS, maxMs };
  const worker = spawnNode('bench/trivial-worker.ts', {
    TEMPORAL_ADDRESS: devServer.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    TRIVIAL_RUNS: JSON.stringify(plan),
    ...workerTuning,
  }, { ipc: true });
  stops.push(() => worker.stop());
  await waitForWorker(client, taskQueue, taskQueue);
  console.log(`\nphase ${round === 'before' ? 1 : 3}: trivial baseline, ${round} the onboardings`);
  const since = Date.now();
  const cpu = cpuMeter(devServer.pid, worker.child.pid!);
  worker.child.send('go');
  const { ms: wallMs, done } = await waitForCount(client, `TaskQueue = "${taskQueue}" AND ExecutionStatus = "Completed"`, wabaCount, since, 'completed', worker.child);
  const result = {
    wallMs,
    done,
    cpu: cpu(),
    perSecond: done / (wallMs / 1000),
    historyPerWorkflow: await averageHistoryLength(client, trivialWorkflowIds(plan)),
    peakRssMb: worker.peakRssMb(),
  };
  await worker.stop();
  return result;
}

/** One discovery through the real API; done when every onboarding is READY. */
async function runService(client: Client, devServer: DevServer, stops: Array<() => Promise<unknown>>) {
  const sandbox = createSandbox({
    appId: SECRETS.appId,
    appSecret: SECRETS.appSecret,
    accessToken: SECRETS.token,
    autoSignTermsAfterMs: SIGN_AFTER_MS,
    webhookRetry: { attempts: 8, backoffMs: 500, timeoutMs: 30_000 },
  });
  const { url: sandboxUrl } = await sandbox.listen(0);
  stops.push(() => sandbox.close());
  const world = sandbox.world;
  const partner = world.createBusiness({ name: 'Bench Solution Partner' });
  const ends = Array.from({ length: businessCount }, (_, i) => world.createBusiness({ name: `Bench customer ${i}` }));
  // Each business's WABAs next to each other in the list, so a business's WABAs are all started
  // before Meta (1 s after its Intent request) signs for them; a signing that came first would start a
  // `manual` onboarding from the webhook instead (with production options: a 10-minute grace).
  const wabaIds = Array.from(
    { length: wabaCount },
    (_, i) => world.createWaba({ partnerBusinessId: partner.id, ownerBusinessId: ends[Math.floor((i * businessCount) / wabaCount)].id }).id,
  );

  const env = { ...benchServiceEnv(devServer.address, `bench-bulk-${Date.now()}`, sandboxUrl, graphRps), ...workerTuning };
  const config = loadConfig(env);
  const app = createApp({ config, client, log: silentLogger });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  stops.push(() => new Promise((resolve) => { server.close(resolve); server.closeAllConnections(); }));
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  world.setWebhookUrl(`${apiUrl}${WEBHOOK_PATH}`);
  const worker = spawnNode('worker/main.ts', env);
  stops.push(() => worker.stop());
  // The worker bundles its workflows first: wait for it to poll before the clock starts.
  await waitForWorker(client, env.TEMPORAL_TASK_QUEUE, env.TEMPORAL_DEPLOYMENT_NAME);

  console.log('\nphase 2: mm-onboarding, one discovery to all READY');
  const since = Date.now();
  const cpu = cpuMeter(devServer.pid, worker.child.pid!);
  const res = await fetch(`${apiUrl}/v1/discoveries`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SECRETS.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ businessId: partner.id, options: { templateSyncGraceSeconds: GRACE_SECONDS, statusPollIntervalSeconds: 3600 } }),
  });
  if (res.status !== 202) throw new Error(`POST /v1/discoveries answered ${res.status}: ${await res.text()}`);
  const { ms: wallMs, done } = await waitForCount(client, `WorkflowType = "onboarding" AND OnboardingStatus = "READY"`, wabaCount, since, 'READY', worker.child);
  const cpuSpent = cpu();
  const discovery = await client.workflow.getHandle(discoveryWorkflowId(partner.id)).query(getDiscoveryStateQuery);
  console.log(`  discovery: ${JSON.stringify(discovery)}`);

  const perWaba = (endpoint: 'waba_status' | 'phone_numbers') => world.countCalls({ endpoint }) / wabaCount;
  const pages = world.countCalls({ endpoint: 'client_wabas' });
  const intents = world.countCalls({ endpoint: 'intent' });
  const businessReads = world.countCalls({ endpoint: 'business_status' });
  const result = {
    wallMs,
    done,
    cpu: cpuSpent,
    perSecond: done / (wallMs / 1000),
    graphPerWaba: world.calls.length / wabaCount,
    graphBreakdown: `status ${perWaba('waba_status').toFixed(2)} + numbers ${perWaba('phone_numbers').toFixed(2)} + list pages ${(pages / wabaCount).toFixed(3)} + per-business calls ${((intents + businessReads) / wabaCount).toFixed(3)}`,
    graphPerBusiness: (intents + businessReads) / businessCount,
    intentsPerBusiness: intents / businessCount,
    webhooksDelivered: world.deliveries.filter((d) => d.state === 'delivered').length,
    historyPerWorkflow: await averageHistoryLength(client, wabaIds.map(onboardingWorkflowId)),
    peakRssMb: worker.peakRssMb(),
  };
  await worker.stop(); // idle now (every run is READY): the last phase has the cores to itself
  if (world.calls.length >= 50_000) console.log('  (the sandbox keeps the last 50,000 calls: Graph figures are a lower bound)');
  return result;
}

async function waitForWorker(client: Client, taskQueue: string, deploymentName: string): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    const { pollers } = await client.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, taskQueueType: 1 });
    // A versioned worker gets tasks only once its version is current (the worker sets it).
    if (pollers.length > 0 && (await currentVersion(client, 'default', deploymentName))) return;
    await sleep(500);
  }
  throw new Error('the worker did not start polling within 3 minutes');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
