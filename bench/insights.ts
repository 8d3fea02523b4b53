/**
 * The insights route's cost to the service, as one key holder can drive it (issue 33, item 1): how many
 * `insightsRead*` workflows and Graph calls its asks start, and what a recheck of another onboarding
 * waits meanwhile.
 *
 *   npm run bench:insights -- [--asks 200] [--templates 12] [--seconds 40] [--clients 8]
 *   (or: npx tsx bench/insights.ts ...; TEMPORAL_ADDRESS=host:port uses that server instead of a fresh dev server)
 *
 * In one process: a Temporal dev server (on a SQLite file, to weigh what the runs leave on disk), the
 * Graph sandbox, the service's workers and two API apps on 127.0.0.1, GRAPH_MAX_RPS 10 (the default).
 * Phases, each on an API key of its own (a key's budget is its own), each printing one JSON line:
 *   crowd      --asks concurrent asks of one window of a WABA with --templates templates, cold then warm,
 *              then split over the two API processes (one read of Meta each)
 *   windows    40 distinct one-day windows of a one-template WABA, within 10 s
 *   clients    --clients clients asking new windows as fast as they are answered (waiting out a
 *              Retry-After) for --seconds, while a recheck of another onboarding runs every 2 s (its
 *              latency against an idle one)
 *   names      300 asks with long, distinct template names (and the dev server's SQLite files' growth)
 *   graph-down 5 asks of one window while the WABA's template listing fails
 */
import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../config';
import { closeApp, createApp } from '../api/app';
import { silentLogger } from '../api/http/logger';
import { GraphUsage } from '../graph';
import { createSandbox } from '../sandbox';
import { startDevServer, type DevServer } from '../scripts/dev-server';
import { createWorkers } from '../worker/worker';
import { boundedInt, close, listen, urlOf, waitFor } from './common';

const { values: args } = parseArgs({
  options: {
    asks: { type: 'string', default: '200' },
    templates: { type: 'string', default: '12' },
    seconds: { type: 'string', default: '40' },
    clients: { type: 'string', default: '8' },
  },
});
const asks = boundedInt(args.asks, 1, 5_000, 'asks');
const templateCount = boundedInt(args.templates, 1, 100, 'templates');
const seconds = boundedInt(args.seconds, 1, 600, 'seconds');
const clients = boundedInt(args.clients, 1, 64, 'clients');

const KEYS = ['setup', 'windows', 'clients', 'names', 'down', 'crowd-1', 'crowd-2', 'crowd-3'].map((phase) => `bench-key-${phase}`);
const SECRETS = { token: 'bench-system-token', appId: 'bench-app', appSecret: 'bench-app-secret' };
const INSIGHTS_ENDPOINTS = ['message_templates', 'ad_insights', 'template_analytics'] as const;
const GRAPH_MAX_RPS = 10;
const DAY_MS = 86_400_000;
const day = (daysAgo: number) => new Date(Date.now() - daysAgo * DAY_MS).toISOString().slice(0, 10);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  let devServer: DevServer | undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-insights-'));
  const dbFile = path.join(dir, 'temporal.db');
  const address = process.env.TEMPORAL_ADDRESS ?? (devServer = await startDevServer({ readyTimeoutMs: 120_000, dbFile })).address;
  const sandbox = createSandbox({ appId: SECRETS.appId, appSecret: SECRETS.appSecret, accessToken: SECRETS.token, templateSyncMs: 200 });
  const { url: graphUrl } = await sandbox.listen(0);
  const taskQueue = `bench-insights-${randomUUID()}`;
  const config = loadConfig({
    TEMPORAL_ADDRESS: address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    TEMPORAL_DEPLOYMENT_NAME: taskQueue,
    GRAPH_API_BASE_URL: graphUrl,
    META_ACCESS_TOKEN: SECRETS.token,
    META_APP_ID: SECRETS.appId,
    META_APP_SECRET: SECRETS.appSecret,
    WEBHOOK_VERIFY_TOKEN: 'bench-verify',
    API_KEYS: KEYS.join(','),
    GRAPH_MAX_RPS: String(GRAPH_MAX_RPS),
  });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const workerConnection = await NativeConnection.connect({ address });
  const workers = await createWorkers(config, workerConnection, client, { shutdownGraceTime: '1s' }, new GraphUsage(config.graph.maxRps));
  const running = workers.run();
  const apps = [createApp({ config, client, log: silentLogger }), createApp({ config, client, log: silentLogger })];
  const servers: Server[] = [];
  try {
    await workers.makeCurrent();
    for (const app of apps) servers.push(await listen(app));
    const [first, second] = servers.map(urlOf);
    const world = sandbox.world;
    const auth = (key: string) => ({ Authorization: `Bearer ${key}` });

    /** A READY onboarding of an ONBOARDED WABA with `templates` marketing templates. */
    const readyWaba = async (templates: number) => {
      const waba = world.createWaba({ onboardingStatus: 'ONBOARDED' });
      for (let i = 0; i < templates; i++) await world.messaging.createTemplate(waba.id, { name: `promo_${i}`, notify: false });
      const started = await fetch(`${first}/v1/onboardings`, {
        method: 'POST',
        headers: { ...auth(KEYS[0]), 'content-type': 'application/json' },
        body: JSON.stringify({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: { templateSyncGraceSeconds: 1, statusPollIntervalSeconds: 3600 } }),
      });
      if (started.status !== 201) throw new Error(`start answered ${started.status}`);
      await waitFor('READY', async () => {
        const res = await fetch(`${first}/v1/onboardings/${waba.id}`, { headers: auth(KEYS[0]) });
        return ((await res.json()) as { status: string }).status === 'READY' ? true : undefined;
      });
      await pause(3_000); // the onboarding's own template reads just after READY are over before a phase counts calls
      return waba;
    };
    const graphCalls = (wabaId: string) => INSIGHTS_ENDPOINTS.reduce((n, endpoint) => n + world.countCalls({ endpoint, wabaId }), 0);
    /** `mm-insights:<wabaId>:…` runs, once visibility has caught up (it settles within a second or two). */
    const workflows = async (wabaId: string) => {
      let last = -1;
      for (let i = 0; i < 20; i++) {
        const { count } = await client.workflow.count(`WorkflowId STARTS_WITH 'mm-insights:${wabaId}:'`);
        if (count === last) return count;
        last = count;
        await pause(500);
      }
      return last;
    };
    const asked = async (url: string, key: string, wabaId: string, query: string) => {
      const res = await fetch(`${url}/v1/onboardings/${wabaId}/insights${query}`, { headers: auth(key) });
      await res.arrayBuffer();
      return { status: res.status, retryAfterSeconds: Number(res.headers.get('retry-after') ?? 0) };
    };
    const ask = async (url: string, key: string, wabaId: string, query: string) => (await asked(url, key, wabaId, query)).status;
    const diskBytes = () => readdirSync(dir).reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);
    const tally = (statuses: number[]) => Object.fromEntries([...new Set(statuses)].sort().map((s) => [s, statuses.filter((x) => x === s).length]));
    const print = (row: Record<string, unknown>) => console.log(JSON.stringify(row));
    const rechecked = await readyWaba(1);
    const recheckMs = async () => {
      const started = performance.now();
      const res = await fetch(`${first}/v1/onboardings/${rechecked.id}/recheck`, { method: 'POST', headers: auth(KEYS[0]) });
      await res.arrayBuffer();
      return { ms: performance.now() - started, status: res.status };
    };
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

    print({ bench: 'insights', asks, templates: templateCount, seconds, clients, graphMaxRps: GRAPH_MAX_RPS });

    // crowd: one window, many asks at once.
    const crowd = await readyWaba(templateCount);
    for (const [name, urls, query, key] of [
      ['crowd, one API, cold', [first], `?since=${day(40)}&until=${day(11)}`, KEYS[5]],
      ['crowd, one API, warm', [first], `?since=${day(40)}&until=${day(11)}`, KEYS[6]],
      ['crowd, two API processes, another window', [first, second], `?since=${day(70)}&until=${day(41)}`, KEYS[7]],
    ] as const) {
      const listings = () => world.countCalls({ endpoint: 'message_templates', wabaId: crowd.id });
      const [before, readsBefore] = [graphCalls(crowd.id), listings()];
      const statuses = await Promise.all(Array.from({ length: asks }, (_, i) => ask(urls[i % urls.length], key, crowd.id, query)));
      print({ phase: name, asks, answers: tally(statuses), readsOfMeta: listings() - readsBefore, graphCalls: graphCalls(crowd.id) - before });
    }

    // windows: 40 distinct one-day windows within 10 s.
    const idle = [];
    for (let i = 0; i < 5; i++) idle.push((await recheckMs()).ms);
    const windowsWaba = await readyWaba(1);
    {
      const before = graphCalls(windowsWaba.id);
      const started = performance.now();
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) {
        statuses.push(await ask(first, KEYS[1], windowsWaba.id, `?since=${day(i + 1)}&until=${day(i + 1)}`));
        const due = started + ((i + 1) * 10_000) / 40;
        if (performance.now() < due) await pause(due - performance.now());
      }
      print({ phase: '40 distinct one-day windows in 10 s', answers: tally(statuses), workflows: await workflows(windowsWaba.id), graphCalls: graphCalls(windowsWaba.id) - before });
    }

    // clients: parallel clients asking new windows for `seconds`, rechecks meanwhile.
    const clientsWaba = await readyWaba(1);
    {
      const before = graphCalls(clientsWaba.id);
      const until = performance.now() + seconds * 1000;
      const statuses: number[] = [];
      let n = 0;
      const client = async () => {
        while (performance.now() < until) {
          const i = n++;
          const from = 1 + (i % 80);
          const answer = await asked(first, KEYS[2], clientsWaba.id, `?since=${day(from + (Math.floor(i / 80) % 9))}&until=${day(from)}`);
          statuses.push(answer.status);
          // As the docs ask: a 429 or 503 is waited out (Retry-After) before the next ask.
          if (answer.retryAfterSeconds) await pause(Math.min(answer.retryAfterSeconds * 1000, until - performance.now()));
        }
      };
      const rechecks: number[] = [];
      const rechecking = (async () => {
        while (performance.now() < until) {
          rechecks.push((await recheckMs()).ms);
          await pause(2_000);
        }
      })();
      await Promise.all([...Array.from({ length: clients }, client), rechecking]);
      print({
        phase: `${clients} parallel clients for ${seconds} s`,
        asks: statuses.length,
        answers: tally(statuses),
        workflows: await workflows(clientsWaba.id),
        graphCalls: graphCalls(clientsWaba.id) - before,
        graphCallsPerSecond: Number(((graphCalls(clientsWaba.id) - before) / seconds).toFixed(2)),
        recheckMedianMs: Math.round(median(rechecks)),
        recheckMaxMs: Math.round(Math.max(...rechecks)),
        recheckIdleMedianMs: Math.round(median(idle)),
      });
    }

    // names: 300 asks with long, distinct template names.
    const namesWaba = await readyWaba(1);
    {
      const [before, bytesBefore] = [graphCalls(namesWaba.id), diskBytes()];
      const statuses: number[] = [];
      for (let i = 0; i < 300; i += 10) {
        statuses.push(...(await Promise.all(Array.from({ length: 10 }, (_, j) => ask(first, KEYS[3], namesWaba.id, `?template=${`t${i + j}_`.padEnd(500, 'x')}`)))));
      }
      await workflows(namesWaba.id);
      const grown = diskBytes() - bytesBefore;
      print({ phase: '300 asks with long template names', answers: tally(statuses), workflows: await workflows(namesWaba.id), graphCalls: graphCalls(namesWaba.id) - before, diskGrowthMB: Number((grown / 1e6).toFixed(1)) });
    }

    // graph-down: 5 asks of one window while the listing fails.
    const downWaba = await readyWaba(1);
    {
      const before = graphCalls(downWaba.id);
      world.injectFault({ endpoint: 'message_templates', wabaId: downWaba.id, kind: 'server_error', times: Infinity });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push(await ask(first, KEYS[4], downWaba.id, `?since=${day(10)}&until=${day(1)}`));
      world.clearFaults();
      const failed = world.findCalls({ endpoint: 'message_templates', wabaId: downWaba.id }).filter((c) => c.faults?.includes('server_error')).length;
      print({ phase: 'Graph down: 5 asks of one window', answers: tally(statuses), workflows: await workflows(downWaba.id), graphCalls: graphCalls(downWaba.id) - before, failedListings: failed });
    }
  } finally {
    for (const s of servers) await close(s);
    for (const app of apps) await closeApp(app);
    workers.shutdown();
    await running;
    await workerConnection.close();
    await connection.close();
    await sandbox.close();
    await devServer?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
