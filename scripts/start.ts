/**
 * `npm start`: the whole service in one process tree.
 * - TEMPORAL_ADDRESS unset → an embedded Temporal dev server (SQLite under .data/, Web UI on 8233);
 * - META_ACCESS_TOKEN unset → the built-in Graph sandbox, which signs the terms by itself;
 * - then the workers and the HTTP API. Ctrl-C drains the workers and stops everything it started.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { ConfigError, describeConfig, loadConfig, type Config } from '../config';
import { createApp } from '../api/app';
import { createWorkers } from '../worker/worker';
import { GraphUsage } from '../activities/graph';
import { ensureSearchAttributes } from '../worker/search-attributes';
import { startDevServer } from './dev-server';
import { startSandbox } from './sandbox';

const log = (msg: string) => console.log(`[mm-onboarding] ${msg}`);
const DEV_SERVER_PORT = 7233;
const DEV_UI_PORT = 8233;

async function main() {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  // The SDK's INFO lines (webpack's bundle report, worker states) drown the lines a newcomer needs.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const stops: Array<() => Promise<unknown>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err) => log(`while stopping: ${err}`));
  };

  try {
    let sandboxBanner: string[] = [];
    if (config.sandbox) {
      const { sandbox, banner } = await startSandbox(config);
      stops.push(() => sandbox.close());
      sandboxBanner = banner;
    }
    let uiUrl: string | undefined;
    if (!config.temporal.address) {
      const dataDir = path.resolve(__dirname, '..', '.data');
      mkdirSync(dataDir, { recursive: true });
      log('starting the embedded Temporal dev server (TEMPORAL_ADDRESS is unset)...');
      const server = await startDevServer({
        port: DEV_SERVER_PORT,
        uiPort: DEV_UI_PORT,
        dbFile: path.join(dataDir, 'temporal.sqlite'),
        namespace: config.temporal.namespace,
        log: (line) => console.log(`[temporal] ${line}`),
      });
      stops.push(() => server.stop());
      config.temporal.address = server.address;
      uiUrl = `${server.uiUrl}/namespaces/${config.temporal.namespace}/workflows`;
    }

    const address = config.temporal.address!;
    const connection = await Connection.connect({ address });
    stops.push(() => connection.close());
    const added = await ensureSearchAttributes(connection, config.temporal.namespace);
    if (added.length) log(`registered search attributes: ${added.join(', ')}`);
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const workerConnection = await NativeConnection.connect({ address });
    stops.push(() => workerConnection.close());

    const graphUsage = new GraphUsage(config.graph.maxRps); // shared: the workers' Graph calls report, /metrics shows
    const workers = await createWorkers(config, workerConnection, client, {}, graphUsage);
    const running = workers.run();
    stops.push(async () => {
      workers.shutdown();
      await running;
    });

    const app = createApp({ config, client, graphUsage });
    const http: Server = await new Promise((resolve) => {
      const s = app.listen(config.port, '127.0.0.1', () => resolve(s));
    });
    stops.push(() => new Promise((resolve) => http.close(resolve)));
    log(`config: ${JSON.stringify(describeConfig(config))}`);
    sandboxBanner.forEach(log);
    log(`worker polling task queues "${config.temporal.taskQueue}" and "${config.temporal.taskQueue}-graph" on ${address}`);
    if (uiUrl) log(`Temporal Web UI: ${uiUrl}`);
    log(`API and webhook receiver: http://127.0.0.1:${config.port} (health: /healthz, OpenAPI: /openapi.json)`);
    log('Ctrl-C stops everything.');

    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: draining the workers and stopping...`);
      await stopAll();
      log('stopped');
      process.exit(0);
    };
    process.on('SIGINT', () => void shutdown('SIGINT'));
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
    await running.catch(async (err) => {
      if (!stopping) {
        log(`worker failed: ${err}`);
        await stopAll();
        process.exit(1);
      }
    });
  } catch (err) {
    console.error(`[mm-onboarding] start-up failed: ${err instanceof Error ? err.message : err}`);
    await stopAll();
    process.exit(1);
  }
}

void main();
