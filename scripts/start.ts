/**
 * `npm start`: the whole service in one process tree that lives and dies as one.
 * - TEMPORAL_ADDRESS unset → an embedded Temporal dev server (SQLite under .data/, Web UI on 8233);
 * - META_ACCESS_TOKEN unset → the built-in Graph sandbox, which signs the terms by itself;
 * - then the workers and the HTTP API.
 * A port already taken stops start-up before anything runs. SIGINT/SIGTERM/SIGHUP drain the workers
 * and stop everything; so does the death of whoever started us. If the dev server or the workers die,
 * everything stops and the exit code is 1, so a supervisor notices.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import { Client } from '@temporalio/client';
import { Runtime } from '@temporalio/worker';
import { ServiceSdkLogger } from '../worker/sdk-logger';
import { workerRuntimeTelemetry } from '../worker/runtime-telemetry';
import { ConfigError, describeConfig, listeningPorts, loadConfig, withDemoSandbox, type Config } from '../config';
import { connectClient, connectWorker } from '../temporal/connection';
import { closeApp, createApp } from '../api/app';
import { PartnerTokenCheck } from '../api/ops/meta-token-check';
import { listen } from '../api/server';
import { createWorkers } from '../worker/worker';
import { ensureSearchAttributes } from '../temporal/search-attribute-registration';
import { graphTaskQueue } from '../temporal/task-queues';
import { startDevServer } from './dev-server';
import { watchForOrphaning } from './orphan-watch';
import { assertPortsFree } from './ports';
import { startSandbox } from './sandbox';
import { startTracing } from '../telemetry/tracer-provider';
import { tracingClientInterceptors } from '../telemetry/temporal-tracing';

const log = (msg: string) => console.log(`[mm-onboarding] ${msg}`);
/** Above the workers' 20 s shutdownGraceTime: a stop that hangs still ends. */
const STOP_CEILING_MS = 30_000;

/** What has been started, stopped in reverse order exactly once, then the process exits. */
class Stack {
  private readonly stops: Array<() => Promise<unknown>> = [];
  private stopping = false;

  get isStopping(): boolean {
    return this.stopping;
  }

  add(stop: () => Promise<unknown>): void {
    this.stops.push(stop);
  }

  async exit(code: number, why: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    (code === 0 ? log : (msg: string) => console.error(`[mm-onboarding] ${msg}`))(why);
    setTimeout(() => {
      console.error(`[mm-onboarding] still stopping after ${STOP_CEILING_MS / 1000} s; exiting anyway`);
      process.exit(1);
    }, STOP_CEILING_MS).unref();
    for (const stop of this.stops.reverse()) await stop().catch((err) => log(`while stopping: ${err}`));
    log('stopped');
    process.exit(code);
  }
}

async function main() {
  let config: Config;
  try {
    // The one entry point that turns sandbox mode on by itself (no META_ACCESS_TOKEN), and starts the sandbox.
    config = loadConfig(withDemoSandbox(process.env));
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const stack = new Stack();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => void stack.exit(0, `${signal}: draining the workers and stopping...`));
  }
  watchForOrphaning(() => void stack.exit(1, 'the process that started us is gone (npm or a launcher was killed): stopping...'));

  try {
    // First in, last out: the spans of the stop itself still leave. Before any Temporal client.
    const tracing = startTracing(config.tracing);
    if (tracing) stack.add(() => tracing.shutdown());
    await assertPortsFree(listeningPorts(config));
    // The SDK's INFO lines (webpack's bundle report, worker states) drown the lines a newcomer needs.
    // The workers' metrics on WORKER_METRICS_PORT, as `npm run worker` serves them (bound here, once
    // the port was found free).
    Runtime.install({ logger: new ServiceSdkLogger(), telemetryOptions: workerRuntimeTelemetry(config) });
    let sandboxBanner: string[] = [];
    if (config.sandbox) {
      // The sandbox's world lives beside the dev server's SQLite file (.data/), so both resume together.
      const stateDir = path.resolve(__dirname, '..', path.dirname(config.devServer?.dbFile ?? '.data/temporal.sqlite'));
      const { banner, close } = await startSandbox(config, path.join(stateDir, 'sandbox.json'));
      stack.add(close);
      sandboxBanner = banner;
    }
    // The partner's token must be able to onboard and send at all; readiness keeps asking later.
    const partnerToken = PartnerTokenCheck.fromConfig(config);
    stack.add(() => partnerToken.close());
    const token = await partnerToken.status();
    if (token.kind === 'missing_permission') throw new Error(`${token.message}; grant it to the system user and restart`);
    // In sandbox mode the token is the sandbox's own: its permissions say nothing worth a line.
    if (!config.sandbox) {
      log(
        token.kind === 'unknown'
          ? `WARNING: could not check META_ACCESS_TOKEN's permissions (${token.message}); /readyz keeps trying`
          : `META_ACCESS_TOKEN permissions: ok${token.insightsAvailable ? '' : ' (no ads_read: Insights API metrics unavailable)'}`,
      );
    }
    let uiUrl: string | undefined;
    if (config.devServer) {
      const dbFile = path.resolve(__dirname, '..', config.devServer.dbFile);
      mkdirSync(path.dirname(dbFile), { recursive: true });
      log('starting the embedded Temporal dev server (TEMPORAL_ADDRESS is unset)...');
      const server = await startDevServer({
        port: config.devServer.port,
        uiPort: config.devServer.uiPort,
        dbFile,
        namespace: config.temporal.namespace,
        log: (line) => console.log(`[temporal] ${line}`),
      });
      stack.add(() => server.stop());
      void server.exited.then((code) => {
        if (!stack.isStopping) void stack.exit(1, `the Temporal dev server exited (code ${code}): stopping everything`);
      });
      config.temporal.address = server.address;
      uiUrl = `${server.uiUrl}/namespaces/${config.temporal.namespace}/workflows`;
    }

    const address = config.temporal.address!;
    const connection = await connectClient(config);
    stack.add(() => connection.close());
    const added = await ensureSearchAttributes(connection, config.temporal.namespace);
    if (added.length) log(`registered search attributes: ${added.join(', ')}`);
    const client = new Client({ connection, namespace: config.temporal.namespace, interceptors: tracingClientInterceptors() });
    const workerConnection = await connectWorker(config);
    stack.add(() => workerConnection.close());

    const workers = await createWorkers(config, workerConnection, client);
    const running = workers.run();
    stack.add(async () => {
      workers.shutdown();
      await running;
    });
    void running.then(
      () => {
        if (!stack.isStopping) void stack.exit(1, 'the workers stopped on their own: stopping everything');
      },
      (err) => {
        if (!stack.isStopping) void stack.exit(1, `worker failed: ${err}`);
      },
    );
    // Versioned workers get tasks only once their version is current: in development that is automatic,
    // in place: the runs of an earlier `npm start` (another commit) move onto this build if they replay on it.
    await workers.takeOver({ inPlace: true, log: (line) => log(line) });

    const app = createApp({ config, client, partnerToken });
    stack.add(() => closeApp(app));
    const http: Server = await listen(app, config.port, config.host);
    stack.add(() => new Promise((resolve) => http.close(resolve)));
    log(`config: ${JSON.stringify(describeConfig(config))}`);
    sandboxBanner.forEach(log);
    log(`worker polling task queues "${config.temporal.taskQueue}" and "${graphTaskQueue(config.temporal.taskQueue)}" on ${address}`);
    if (uiUrl) log(`Temporal Web UI: ${uiUrl}`);
    log(`API and webhook receiver: http://${config.host}:${config.port} (health: /healthz, OpenAPI: /openapi.json)`);
    log('Ctrl-C stops everything.');
  } catch (err) {
    await stack.exit(1, `start-up failed: ${err instanceof Error ? err.message : err}`);
  }
}

void main();
