/**
 * What the service costs as Temporal Cloud bills it: actions (starts, signals, queries, updates
 * accepted and rejected, activities and their retries, timers, upserts, continue-as-new, ...), counted
 * by the Temporal server itself (its `action` counter, the one Temporal Cloud's metering derives
 * from), never by assumption.
 *
 *   npm run bench:cost -- [--wabas 100] [--businesses 10] [--templates 10] [--dense-seconds 4] [--sparse-rounds 10]
 *
 * One fresh dev server, the Graph sandbox, the real API and webhook receiver in this process and the
 * real worker (`worker/main.ts`) in a child process; everything on 127.0.0.1. Phases, each measured
 * on its own (the server's counter read before and after, in namespace `default`):
 *   1. Intent onboarding to READY: --wabas onboardings (path intent) across --businesses businesses
 *      (and the idle ones below, of a business of their own), Meta signing the terms 15 s after each
 *      Intent request (its webhook), grace 1 s; a status poll never comes first (hourly).
 *   2. A READY WABA's idle month: --idle-wabas more WABAs, onboarded alike but with wakeEverySeconds
 *      60 (the shortest the API takes), idle for two backstop wakes each, then cancelled (outside the
 *      measured windows); the month is the default weekly backstop, 30/7 wakes.
 *   3. Dense sends: 500 sends/s for --dense-seconds on one WABA's --templates templates.
 *   4. Sparse sends: every WABA sends once per 30 s for --sparse-rounds rounds after one warm-up round
 *      (its first read and the first send's daily record: once per WABA, not per 1,000 sends).
 *   5. A release: a second worker of another build makes itself current, and its release moves every
 *      open run onto it (a wake signal, continue-as-new); actions until every run has moved, per
 *      open run (the onboardings and the businesses' Intent workflows).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { Pool } from 'undici';
import { loadConfig } from '../config';
import { createApp } from '../api/app';
import { silentLogger } from '../api/http/logger';
import { WEBHOOK_PATH } from '../api/webhooks/receiver';
import { createSandbox } from '../sandbox';
import { startDevServer } from '../scripts/dev-server';
import { currentVersion } from '../temporal/deployment-version';
import { releaseWorkflowId } from '../workflows/release-types';
import { getReleaseStateQuery } from '../workflows/messages';
import { BENCH_SECRETS, benchServiceEnv, boundedInt, limiter, spawnNode } from './common';

const { values: args } = parseArgs({
  options: {
    wabas: { type: 'string', default: '100' },
    businesses: { type: 'string', default: '10' },
    templates: { type: 'string', default: '10' },
    'dense-seconds': { type: 'string', default: '4' },
    'sparse-rounds': { type: 'string', default: '10' },
    'idle-wabas': { type: 'string', default: '20' },
  },
});
const wabaCount = boundedInt(args.wabas, 1, 1_000, 'wabas');
const businessCount = boundedInt(args.businesses, 1, wabaCount, 'businesses');
const templateCount = boundedInt(args.templates, 1, 100, 'templates');
const denseSeconds = boundedInt(args['dense-seconds'], 1, 60, 'dense-seconds');
const sparseRounds = boundedInt(args['sparse-rounds'], 1, 100, 'sparse-rounds');
const idleCount = boundedInt(args['idle-wabas'], 1, 1_000, 'idle-wabas');

const SECRETS = BENCH_SECRETS;
const WAKE_SECONDS = 60;
const SPARSE_INTERVAL_MS = 30_000;
const DENSE_RATE = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The server's `action` counter in namespace `default`, by action type. */
async function actions(metricsUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const byType = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('action{') || !line.includes('namespace="default"')) continue;
    const type = /action_type="([^"]*)"/.exec(line)?.[1] ?? 'unknown';
    byType.set(type, (byType.get(type) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return byType;
}

/** Actions counted from now until `read()`, in all and by type. */
async function meter(metricsUrl: string) {
  const before = await actions(metricsUrl);
  return async () => {
    await sleep(1_500); // the server counts an action as it handles it; let the last ones land
    const after = await actions(metricsUrl);
    const delta = new Map<string, number>();
    for (const [type, n] of after) if (n - (before.get(type) ?? 0) > 0) delta.set(type, n - (before.get(type) ?? 0));
    const total = [...delta.values()].reduce((a, b) => a + b, 0);
    return { total, delta };
  };
}

const breakdown = (delta: Map<string, number>, per: number) =>
  [...delta.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([type, n]) => `${type.replace(/^(grpc|command)_/, '')} ${(n / per).toFixed(2)}`)
    .join(', ');

async function main() {
  console.log(`cost bench: ${wabaCount} WABAs across ${businessCount} businesses, ${templateCount} templates each, node ${process.version}`);
  const devServer = await startDevServer({ readyTimeoutMs: 120_000 });
  const connection = await Connection.connect({ address: devServer.address });
  const client = new Client({ connection });
  const stops: Array<() => Promise<unknown>> = [];
  try {
    const sandbox = createSandbox({ appId: SECRETS.appId, appSecret: SECRETS.appSecret, accessToken: SECRETS.token, autoSignTermsAfterMs: 15_000, templateSyncMs: 500 });
    const { url: sandboxUrl } = await sandbox.listen(0);
    stops.push(() => sandbox.close());
    const world = sandbox.world;
    const partner = world.createBusiness({ name: 'Bench Solution Partner' });
    const ends = Array.from({ length: businessCount }, (_, i) => world.createBusiness({ name: `Bench customer ${i}` }));
    // The idle WABAs have businesses of their own: each business's WABAs are started together, before
    // Meta signs for them (a signing first would start a manual onboarding from its webhook instead).
    const idleBusiness = world.createBusiness({ name: 'Bench idle customer' });
    const all = Array.from({ length: wabaCount + idleCount }, (_, i) =>
      world.createWaba({ partnerBusinessId: partner.id, ownerBusinessId: i < wabaCount ? ends[Math.floor((i * businessCount) / wabaCount)].id : idleBusiness.id }),
    );
    const wabas = all.slice(0, wabaCount);
    const idle = all.slice(wabaCount);
    for (const waba of all) {
      for (let t = 0; t < templateCount; t++) await world.messaging.createTemplate(waba.id, { name: `bench_template_${t}`, notify: false });
    }

    const queue = `bench-cost-${Date.now()}`;
    const env = { ...benchServiceEnv(devServer.address, queue, sandboxUrl, 1000), TEMPORAL_WORKER_BUILD_ID: 'bench-a' };
    const app = createApp({ config: loadConfig(env), client, log: silentLogger });
    const server: Server = await new Promise((resolve, reject) => {
      const s = app.listen(0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
    });
    stops.push(
      () =>
        new Promise((resolve) => {
          server.close(resolve);
          server.closeAllConnections();
        }),
    );
    const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    world.setWebhookUrl(`${apiUrl}${WEBHOOK_PATH}`);
    const worker = spawnNode('worker/main.ts', env);
    stops.push(() => worker.stop());
    const deadline = Date.now() + 180_000;
    while ((await currentVersion(client, 'default', queue))?.buildId !== 'bench-a') {
      if (Date.now() > deadline) throw new Error('the worker did not become current within 3 minutes');
      await sleep(500);
    }

    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${apiUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${SECRETS.apiKey}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
    };
    const countReady = async () => (await client.workflow.count(`TaskQueue = "${queue}" AND OnboardingStatus = "READY"`)).count;
    const rows: Array<{ what: string; actions: number; per: string; target: string; breakdown: string }> = [];
    const report = (row: (typeof rows)[number]) => {
      rows.push(row);
      console.log(`  ${row.what}: ${row.actions} actions, ${row.per} per unit (target ${row.target}); ${row.breakdown}`);
    };

    console.log(`phase 1: ${all.length} Intent onboardings to READY`);
    let m = await meter(devServer.metricsUrl);
    const starts = limiter(20);
    await Promise.all(
      all.map((waba, i) =>
        starts(async () => {
          const body = {
            wabaId: waba.id,
            businessId: waba.ownerBusinessId,
            path: 'intent',
            options: { templateSyncGraceSeconds: 1, statusPollIntervalSeconds: 3600, ...(i >= wabaCount ? { wakeEverySeconds: WAKE_SECONDS } : {}) },
          };
          // A busy machine may answer 503 (the run's first query slow): asked again, a running one answers 200.
          for (let attempt = 1; ; attempt++) {
            const r = await call('POST', '/v1/onboardings', body);
            if (r.status === 201 || r.status === 200) break;
            if (r.status !== 503 || attempt >= 5) throw new Error(`POST /v1/onboardings answered ${r.status}: ${JSON.stringify(r.body)}`);
            await sleep(10_000);
          }
        }),
      ),
    );
    const readyBy = Date.now() + 900_000;
    while ((await countReady()) < all.length) {
      if (Date.now() > readyBy) throw new Error(`only ${await countReady()}/${all.length} READY within 15 minutes`);
      await sleep(1_000);
    }
    await sleep(2_000); // the templates listed at READY
    let spent = await m();
    report({ what: 'Intent onboarding to READY', actions: spent.total, per: (spent.total / all.length).toFixed(2), target: '≤ 20', breakdown: breakdown(spent.delta, all.length) });
    const perOnboarding = spent.total / all.length;

    console.log(`phase 2: ${idleCount} READY WABAs idle for two backstop wakes (${2 * WAKE_SECONDS} s)`);
    m = await meter(devServer.metricsUrl);
    await sleep(2 * WAKE_SECONDS * 1000 + 3_000);
    spent = await m();
    const perWake = spent.total / idleCount / 2;
    const perMonth = (perWake * 30) / 7;
    report({ what: 'READY WABA, idle month (weekly backstop: 30/7 wakes)', actions: spent.total, per: perMonth.toFixed(2), target: '≤ 5', breakdown: `per wake: ${breakdown(spent.delta, idleCount * 2)}` });
    await Promise.all(idle.map((w) => starts(() => call('POST', `/v1/onboardings/${w.id}/cancel`, {}))));
    await sleep(3_000);

    // Keep-alive connections, at most 64 sends in flight: the open loop's schedule queues behind them on a busy machine.
    const pool = new Pool(apiUrl, { connections: 64 });
    stops.push(() => pool.close());
    const inFlight = limiter(64);
    const failedSends = new Map<number, number>();
    const send = (wabaId: string, phoneNumberId: string, template: string) =>
      inFlight(async () => {
        const res = await pool.request({
          method: 'POST',
          path: `/v1/onboardings/${wabaId}/messages`,
          headers: { authorization: `Bearer ${SECRETS.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ phoneNumberId, to: '+15550001111', template: { name: template, language: 'en_US' } }),
        });
        const text = await res.body.text();
        if (res.statusCode !== 200) {
          // Counted and shown (a busy machine can make a read miss its deadline: 503), not fatal.
          failedSends.set(res.statusCode, (failedSends.get(res.statusCode) ?? 0) + 1);
          if (failedSends.size === 1 && [...failedSends.values()][0] === 1) console.log(`  a send answered ${res.statusCode}: ${text.slice(0, 300)}`);
        }
      });

    console.log(`phase 3: dense sends, ${DENSE_RATE}/s for ${denseSeconds} s`);
    const dense = wabas[0];
    m = await meter(devServer.metricsUrl);
    const denseSends: Promise<void>[] = [];
    const startedAt = performance.now();
    for (let n = 0; n < DENSE_RATE * denseSeconds; n++) {
      const wait = startedAt + (n * 1000) / DENSE_RATE - performance.now();
      if (wait > 1) await sleep(wait);
      denseSends.push(send(dense.id, dense.phoneNumbers[0].id, `bench_template_${n % templateCount}`));
    }
    await Promise.all(denseSends);
    const denseRate = (DENSE_RATE * denseSeconds) / ((performance.now() - startedAt) / 1000);
    spent = await m();
    const denseCount = DENSE_RATE * denseSeconds;
    console.log(`dense: ${denseCount} sends at ${denseRate.toFixed(0)}/s achieved`);
    report({ what: `${denseCount} dense sends (500/s, one WABA)`, actions: spent.total, per: ((spent.total * 1000) / denseCount).toFixed(2), target: '≤ 10 per 1,000', breakdown: breakdown(spent.delta, denseCount / 1000) });
    const densePer1000 = (spent.total * 1000) / denseCount;

    const sparse = wabas.length > 1 ? wabas.slice(1) : wabas;
    // Each WABA's sends 30 s apart, the WABAs spread over the 30 s.
    const round = (r: number) => Promise.all(sparse.map((w, i) => sleep((i * SPARSE_INTERVAL_MS) / sparse.length).then(() => send(w.id, w.phoneNumbers[0].id, `bench_template_${r % templateCount}`))));
    console.log(`phase 4: sparse sends, ${sparse.length} WABAs once per 30 s, a warm-up round and ${sparseRounds} measured`);
    const warm = await meter(devServer.metricsUrl);
    await round(0);
    const warmed = await warm();
    m = await meter(devServer.metricsUrl);
    for (let r = 1; r <= sparseRounds; r++) await round(0); // the same template each round: its record is daily
    spent = await m();
    const sparseCount = sparse.length * sparseRounds;
    report({
      what: `${sparseCount} sparse sends (one per 30 s per WABA, ${sparse.length} WABAs)`,
      actions: spent.total,
      per: ((spent.total * 1000) / sparseCount).toFixed(2),
      target: '≤ 10 per 1,000',
      breakdown: `${breakdown(spent.delta, sparseCount / 1000)}; warm-up round (first read and daily record per WABA): ${(warmed.total / sparse.length).toFixed(2)} per WABA`,
    });
    const sparsePer1000 = (spent.total * 1000) / sparseCount;

    console.log('phase 5: a release onto another build');
    const open = (await client.workflow.count(`TaskQueue = "${queue}" AND ExecutionStatus = "Running"`)).count;
    m = await meter(devServer.metricsUrl);
    const next = spawnNode('worker/main.ts', { ...env, TEMPORAL_WORKER_BUILD_ID: 'bench-b' });
    stops.push(() => next.stop());
    const released = client.workflow.getHandle(releaseWorkflowId({ deploymentName: queue, buildId: 'bench-b' }));
    const releaseBy = Date.now() + 600_000;
    // Measured until every open run has moved (the release then waits for the old build's workers to stop before deleting it).
    for (;;) {
      const state = await released.query(getReleaseStateQuery).catch(() => undefined);
      if (state && state.status !== 'MOVING_RUNS') break;
      if (Date.now() > releaseBy) throw new Error('the release did not finish within 10 minutes');
      await sleep(1_000);
    }
    spent = await m();
    report({ what: `a release, ${open} open runs`, actions: spent.total, per: (spent.total / open).toFixed(2), target: '(none)', breakdown: breakdown(spent.delta, open) });

    if (failedSends.size) console.log(`sends not answered 200: ${JSON.stringify(Object.fromEntries(failedSends))}`);
    console.table(rows.map(({ what, actions: a, per, target }) => ({ what, actions: a, 'per unit': per, target })));
    for (const r of rows) console.log(`${r.what}: ${r.breakdown}`);
    if (perOnboarding > 20 || perMonth > 5 || densePer1000 > 10 || sparsePer1000 > 10) process.exitCode = 1;
  } catch (err) {
    console.error(err); // before the stops: a client retry firing after its connection closed would hide it
    process.exitCode = 1;
  } finally {
    for (const stop of stops.reverse()) await stop().catch((err) => console.error(`while stopping: ${err}`));
    await connection.close();
    await devServer.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
