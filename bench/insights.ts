/**
 * The insights route under a crowd: N concurrent asks for the same WABA and window must cost exactly one
 * read of Meta per template set (and two API processes asking at once, one between them).
 *
 *   npm run bench:insights -- [--asks 200] [--templates 12]
 *   (or: npx tsx bench/insights.ts ...; TEMPORAL_ADDRESS=host:port uses that server instead of a fresh dev server)
 *
 * In one process: a Temporal dev server, the Graph sandbox, the service's workers and two API apps on
 * 127.0.0.1. One READY onboarding of a WABA with `--templates` marketing templates. Each phase fires
 * `--asks` GETs at once and counts the sandbox's Graph calls it caused: a read is one
 * `message_templates` listing plus one Insights call per template (or one template_analytics call per
 * 10 templates in the deprecated-Insights phase). Prints Graph calls per ask.
 */
import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
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

const { values: args } = parseArgs({ options: { asks: { type: 'string', default: '200' }, templates: { type: 'string', default: '12' } } });
const asks = boundedInt(args.asks, 1, 5_000, 'asks');
const templateCount = boundedInt(args.templates, 1, 100, 'templates');

const SECRETS = { token: 'bench-system-token', appId: 'bench-app', appSecret: 'bench-app-secret', apiKey: 'bench-api-key' };
const INSIGHTS_ENDPOINTS = ['message_templates', 'ad_insights', 'template_analytics'] as const;
const DAY_MS = 86_400_000;
const day = (daysAgo: number) => new Date(Date.now() - daysAgo * DAY_MS).toISOString().slice(0, 10);

async function main() {
  let devServer: DevServer | undefined;
  const address = process.env.TEMPORAL_ADDRESS ?? (devServer = await startDevServer({ readyTimeoutMs: 120_000 })).address;
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
    API_KEYS: SECRETS.apiKey,
    GRAPH_MAX_RPS: '1000',
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
    const auth = { Authorization: `Bearer ${SECRETS.apiKey}` };
    const world = sandbox.world;

    // One READY onboarding of an ONBOARDED WABA with its marketing templates.
    const waba = world.createWaba({ onboardingStatus: 'ONBOARDED' });
    for (let i = 0; i < templateCount; i++) await world.messaging.createTemplate(waba.id, { name: `promo_${i}`, notify: false });
    const started = await fetch(`${first}/v1/onboardings`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: { templateSyncGraceSeconds: 1 } }),
    });
    if (started.status !== 201) throw new Error(`start answered ${started.status}`);
    await waitFor('READY', async () => {
      const res = await fetch(`${first}/v1/onboardings/${waba.id}`, { headers: auth });
      return ((await res.json()) as { status: string }).status === 'READY' ? true : undefined;
    });

    const graphCalls = () => INSIGHTS_ENDPOINTS.reduce((n, endpoint) => n + world.countCalls({ endpoint, wabaId: waba.id }), 0);
    const reads = () => world.countCalls({ endpoint: 'message_templates', wabaId: waba.id });
    const phase = async (name: string, urls: string[], query: string) => {
      const [callsBefore, readsBefore] = [graphCalls(), reads()];
      const startedAt = performance.now();
      const answers = await Promise.all(
        Array.from({ length: asks }, (_, i) =>
          fetch(`${urls[i % urls.length]}/v1/onboardings/${waba.id}/insights${query}`, { headers: auth }).then(async (r) => ({ status: r.status, body: (await r.json()) as { source?: string } })),
        ),
      );
      const ms = performance.now() - startedAt;
      const failed = answers.filter((a) => a.status !== 200).length;
      const calls = graphCalls() - callsBefore;
      const row = {
        phase: name,
        asks,
        failed,
        source: answers[0].body.source ?? null,
        readsOfMeta: reads() - readsBefore,
        graphCalls: calls,
        graphCallsPerAsk: Number((calls / asks).toFixed(4)),
        wallMs: Math.round(ms),
      };
      console.log(JSON.stringify(row));
      return row;
    };

    const window = (from: number) => `?since=${day(from)}&until=${day(from - 29)}`;
    console.log(JSON.stringify({ bench: 'insights', asks, templates: templateCount }));
    const rows = [
      await phase('insights, one API, cold', [first], window(40)),
      await phase('insights, one API, warm (from memory)', [first], window(40)),
      await phase('insights, two API processes, cold', [first, second], window(70)),
    ];
    world.insights.deprecated = true;
    rows.push(await phase('deprecated Insights: template_analytics, cold', [first], window(100)));
    world.insights.deprecated = false;
    const ok = rows.every((r) => r.failed === 0) && rows[0].readsOfMeta === 1 && rows[1].graphCalls === 0 && rows[2].readsOfMeta === 1 && rows[3].readsOfMeta === 1;
    console.log(JSON.stringify({ result: ok ? 'one read of Meta per template set' : 'MORE THAN ONE READ (or failures)' }));
    if (!ok) process.exitCode = 1;
  } finally {
    for (const s of servers) await close(s);
    for (const app of apps) await closeApp(app);
    workers.shutdown();
    await running;
    await workerConnection.close();
    await connection.close();
    await sandbox.close();
    await devServer?.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
