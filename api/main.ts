/**
 * The API process on its own (webhook receiver + partner API), for deployments that run and scale it
 * apart from the workers: `node dist/api/main.js` in the image, `tsx api/main.ts` from source.
 *
 * SIGTERM/SIGINT: stop accepting connections, let every request in flight finish (a webhook is only
 * answered 200 once its signal is in Temporal, so none answered 200 is lost), then close the
 * Temporal connection and exit.
 */
import { Client } from '@temporalio/client';
import { ConfigError, describeConfig, loadConfig } from '../config';
import { assertSandboxRunning } from '../config/sandbox-running';
import { connectClient } from '../temporal/connection';
import { createApp } from './app';
import { consoleLogger } from './http/logger';
import { listen } from './server';
import { startTracing } from '../telemetry/tracer-provider';
import { tracingClientInterceptors } from '../telemetry/temporal-tracing';

/** How long a container start waits for a Temporal cluster starting beside it. */
const CONNECT_WAIT_MS = 120_000;
/** Requests still running after this long at shutdown are cut (their clients retry). */
const DRAIN_MS = 15_000;

async function main() {
  // Fails closed: no Meta settings and no MM_SANDBOX=true → exit 1 naming each missing one.
  const config = loadConfig(process.env, { role: 'api' });
  await assertSandboxRunning(config);
  const log = consoleLogger;
  // Before the Temporal client: its interceptors follow whether this process traces.
  const tracing = startTracing(config.tracing);
  if (config.sandbox) log.warn('SANDBOX MODE (MM_SANDBOX=true): every Graph call goes to the sandbox; nothing talks to Meta', { graph: config.graph.baseUrl });
  const connection = await connectClient(config, { waitMs: CONNECT_WAIT_MS, log: (line) => log.warn(line) });
  const client = new Client({ connection, namespace: config.temporal.namespace, interceptors: tracingClientInterceptors() });
  const app = createApp({ config, client, log });
  const server = await listen(app, config.port, config.host);
  log.info('API listening', { url: `http://${config.host}:${config.port}`, config: describeConfig(config) });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping: no new connections, draining requests in flight', { signal });
    const cut = setTimeout(() => server.closeAllConnections(), DRAIN_MS);
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    clearTimeout(cut);
    await connection.close();
    await tracing?.shutdown();
    log.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : `API start-up failed: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
