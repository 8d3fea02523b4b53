/**
 * The send gate's cost: its latency over a direct Graph call, and the Temporal writes sends cause.
 *
 *   npm run bench:sends -- [--rate 500] [--duration 20] [--connections 50] [--templates 10]
 *   (or: npx tsx bench/sends.ts ...; TEMPORAL_ADDRESS=host:port uses that server instead of a fresh dev server)
 *
 * One run, two kinds of send interleaved one for one, each at --rate, against the same in-process Graph
 * sandbox, so both see the same machine load (this machine is shared):
 *   - direct: POST /<phone>/marketing_messages on the sandbox, as a partner calling Meta itself would;
 *   - gate:   POST /v1/onboardings/:wabaId/messages on the real app (readiness from memory, then the
 *             same Graph call), for a READY onboarding whose workflow runs on real workers.
 * Open loop: each send is fired on its schedule whether or not earlier ones have answered, and its
 * latency counts from when it was due (no coordinated omission). It prints both latency distributions,
 * the gate's extra p50/p99 (target: p99 at most 5 ms extra at 500 sends/s), and the history events and
 * Temporal calls the gate's sends caused, per 10,000 sends. Everything stays on 127.0.0.1; the run is
 * bounded by --duration and at most --connections sends in flight per kind.
 */
import type { Server } from 'node:http';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { boundedInt, close, listen, urlOf } from './common';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfig } from '../config';
import { closeApp, createApp } from '../api/app';
import { silentLogger } from '../api/logger';
import { onboardingStartOptions } from '../api/onboarding-client';
import { createSandbox } from '../sandbox';
import { startDevServer, type DevServer } from '../scripts/dev-server';
import { createWorkers } from '../worker/worker';
import { getStateQuery, getTemplatesQuery } from '../workflows/messages';
import { viewTemplate } from '../workflows/templates';


const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '500' },
    duration: { type: 'string', default: '20' },
    connections: { type: 'string', default: '50' },
    templates: { type: 'string', default: '10' },
  },
});
const rate = boundedInt(args.rate, 1, 5_000, 'rate');
const duration = boundedInt(args.duration, 1, 120, 'duration');
const connections = boundedInt(args.connections, 1, 256, 'connections');
const templateCount = boundedInt(args.templates, 1, 100, 'templates');


const SECRETS = { token: 'bench-token', appId: 'bench-app', appSecret: 'bench-app-secret', apiKey: 'bench-key' };
const GRACE_SECONDS = 1;


async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface Send {
  path: string;
  headers: Record<string, string>;
  body: string;
}

interface Latencies {
  ms: number[];
  failed: number;
  /** Not fired: --connections sends of this kind were already in flight. */
  dropped: number;
}

/**
 * Fires `rate` sends per second of each kind for `seconds`, alternating kinds, each on its own
 * keep-alive pool; a latency counts from when the send was due.
 */
async function interleaved(kinds: Array<{ pool: Pool; sends: Send[] }>, perKindRate: number, seconds: number): Promise<Latencies[]> {
  const results = kinds.map((): Latencies => ({ ms: [], failed: 0, dropped: 0 }));
  const inFlight = kinds.map(() => 0);
  const pending: Promise<void>[] = [];
  const interval = 1000 / (perKindRate * kinds.length);
  const start = performance.now();
  const total = Math.floor(seconds * perKindRate) * kinds.length;
  for (let n = 0; n < total; n++) {
    const due = start + n * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const k = n % kinds.length;
    if (inFlight[k] >= connections) {
      results[k].dropped++;
      continue;
    }
    const send = kinds[k].sends[Math.floor(n / kinds.length) % kinds[k].sends.length];
    inFlight[k]++;
    pending.push(
      kinds[k].pool
        .request({ method: 'POST', path: send.path, headers: send.headers, body: send.body })
        .then(async (res) => {
          await res.body.dump();
          if (res.statusCode >= 200 && res.statusCode < 300) results[k].ms.push(performance.now() - due);
          else results[k].failed++;
        })
        .catch(() => {
          results[k].failed++;
        })
        .finally(() => inFlight[k]--),
    );
  }
  await Promise.all(pending);
  return results;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

function summary(name: string, r: Latencies) {
  const sorted = [...r.ms].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    name,
    sent: sorted.length,
    'p50 ms': round(percentile(sorted, 50)),
    'p90 ms': round(percentile(sorted, 90)),
    'p99 ms': round(percentile(sorted, 99)),
    'max ms': round(sorted.at(-1) ?? NaN),
    failed: r.failed,
    dropped: r.dropped,
  };
}

/** A Prometheus counter's value from the app's /metrics text (0 when absent). */
function metric(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (want.every((l) => line.includes(l))) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  let devServer: DevServer | undefined;
  const address = process.env.TEMPORAL_ADDRESS ?? (devServer = await startDevServer({ readyTimeoutMs: 120_000 })).address;
  const connection = await Connection.connect({ address });
  const workerConnection = await NativeConnection.connect({ address });
  const sandbox = createSandbox({ appId: SECRETS.appId, appSecret: SECRETS.appSecret, accessToken: SECRETS.token, templateSyncMs: 100 });
  const servers: Server[] = [];
  let stopWorkers = async () => {};
  try {
    const { url: sandboxUrl } = await sandbox.listen(0);
    const config = loadConfig({
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TASK_QUEUE: `bench-sends-${Date.now()}`,
      GRAPH_API_BASE_URL: sandboxUrl,
      META_ACCESS_TOKEN: SECRETS.token,
      META_APP_ID: SECRETS.appId,
      META_APP_SECRET: SECRETS.appSecret,
      WEBHOOK_VERIFY_TOKEN: 'bench-verify',
      API_KEYS: SECRETS.apiKey,
      GRAPH_MAX_RPS: '1000',
    });
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: new DefaultLogger('WARN') });
    const workers = await createWorkers(config, workerConnection, client, { workflowBundle, shutdownGraceTime: '2s' });
    const running = workers.run();
    stopWorkers = async () => {
      workers.shutdown();
      await running;
    };

    // A READY onboarding with `templateCount` approved marketing templates, all past their sync.
    const waba = sandbox.world.createWaba({ onboardingStatus: 'ONBOARDED' });
    const names = Array.from({ length: templateCount }, (_, i) => `bench_template_${i}`);
    for (const name of names) await sandbox.world.messaging.createTemplate(waba.id, { name, notify: false });
    const handle = await client.workflow.start(
      'onboarding',
      onboardingStartOptions(
        { wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: { templateSyncGraceSeconds: GRACE_SECONDS } },
        config,
      ),
    );
    await waitFor('READY', async () => ((await handle.query(getStateQuery)).status === 'READY' ? true : undefined));
    await waitFor('every template ready', async () => {
      const book = await handle.query(getTemplatesQuery);
      return book.templates.length === templateCount && book.templates.every((t) => viewTemplate(t, book, Date.now()).ready) ? true : undefined;
    });

    const app = createApp({ config, client, log: silentLogger });
    const appServer = await listen(app);
    servers.push(appServer);
    const phone = waba.phoneNumbers[0].id;
    const graphMessage = (name: string) => ({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '+15550001111',
      type: 'template',
      template: { name, language: { code: 'en_US' } },
    });
    const direct: Send[] = names.map((name) => ({
      path: `/v24.0/${phone}/marketing_messages`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRETS.token}` },
      body: JSON.stringify(graphMessage(name)),
    }));
    const gated: Send[] = names.map((name) => ({
      path: `/v1/onboardings/${waba.id}/messages`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRETS.apiKey}` },
      body: JSON.stringify({ phoneNumberId: phone, to: '+15550001111', template: { name, language: 'en_US' } }),
    }));
    const directPool = new Pool(sandboxUrl, { connections });
    const gatePool = new Pool(urlOf(appServer), { connections });
    const kinds = [
      { pool: directPool, sends: direct },
      { pool: gatePool, sends: gated },
    ];

    console.log(
      `send bench: ${rate} sends/s of each kind (direct and gated, interleaved) for ${duration} s, at most ${connections} in flight per kind, ` +
        `${templateCount} templates, Temporal at ${address}${devServer ? ' (fresh dev server)' : ''}, node ${process.version}`,
    );
    // Temporal writes are counted from the gate's very first send, when every template's first send is
    // recorded; the 2 s warm-up (JIT, connection pools) counts for writes, not for latency.
    const historyBefore = (await handle.fetchHistory()).events ?? [];
    const metricsBefore = await (await fetch(`${urlOf(appServer)}/metrics`)).text();
    const [, warmUp] = await interleaved(kinds, rate, 2);
    const [directResult, gateResult] = await interleaved(kinds, rate, duration);
    await new Promise((r) => setTimeout(r, 1_000)); // background send records land
    const historyAfter = (await handle.fetchHistory()).events ?? [];
    const metricsAfter = await (await fetch(`${urlOf(appServer)}/metrics`)).text();
    await Promise.all([directPool.close(), gatePool.close()]);

    const directSummary = summary('direct Graph call (sandbox /marketing_messages)', directResult);
    const gateSummary = summary('through the gate (/v1/.../messages)', gateResult);
    console.table([directSummary, gateSummary]);
    const extraP50 = gateSummary['p50 ms'] - directSummary['p50 ms'];
    const extraP99 = gateSummary['p99 ms'] - directSummary['p99 ms'];
    console.log(`gate overhead: p50 +${extraP50.toFixed(2)} ms, p99 +${extraP99.toFixed(2)} ms (target: p99 at most +5 ms at 500 sends/s)`);

    const sends = warmUp.ms.length + gateResult.ms.length;
    const newEvents = historyAfter.slice(historyBefore.length);
    const writes = {
      historyEvents: newEvents.length,
      updatesAccepted: newEvents.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length,
      signals: newEvents.filter((e) => e.workflowExecutionSignaledEventAttributes).length,
    };
    const delta = (name: string, labels: Record<string, string>) => metric(metricsAfter, name, labels) - metric(metricsBefore, name, labels);
    const calls = {
      queries: delta('mm_temporal_call_duration_seconds_count', { operation: 'query' }),
      updates: delta('mm_temporal_call_duration_seconds_count', { operation: 'update' }),
    };
    const per10k = (n: number) => (sends ? ((n * 10_000) / sends).toFixed(2) : 'n/a');
    console.log(
      `Temporal writes caused by ${sends} gated sends: ${writes.historyEvents} history events ` +
        `(${writes.updatesAccepted} accepted send records, ${writes.signals} signals) = ${per10k(writes.historyEvents)} events per 10,000 sends; ` +
        `calls to Temporal: ${calls.queries} readiness queries (reads), ${calls.updates} send-record updates = ${per10k(calls.queries + calls.updates)} per 10,000 sends`,
    );
    if (warmUp.failed || gateResult.failed || directResult.failed) process.exitCode = 1;
    await closeApp(app);
  } finally {
    for (const server of servers) await close(server);
    await stopWorkers();
    await sandbox.close();
    await workerConnection.close();
    await connection.close();
    await devServer?.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
