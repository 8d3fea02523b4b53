/**
 * A worker process on its own, for deployments that scale workers apart from the API:
 * `node dist/worker/main.js` in the image, `npm run worker` from source.
 *
 * SIGTERM/SIGINT: the workers stop polling, activities in flight get `shutdownGraceTime` to finish
 * (past it they are cancelled and Temporal retries them on another worker), then the process exits.
 * With TEMPORAL_WORKER_SET_CURRENT=true it replaces the current build in place; otherwise it waits for
 * a rollout to make its build current (worker/release.ts).
 */
import { Client } from '@temporalio/client';
import { Runtime } from '@temporalio/worker';
import { ServiceSdkLogger } from './sdk-logger';
import { workerRuntimeTelemetry } from './runtime-telemetry';
import { ConfigError, describeConfig, loadConfig } from '../config';
import { assertSandboxRunning } from '../config/sandbox-running';
import { connectClient, connectWorker } from '../temporal/connection';
import { ensureSearchAttributes } from '../temporal/search-attribute-registration';
import { createWorkers } from './worker';
import { traceFields } from '../telemetry/log-fields';
import { startTracing } from '../telemetry/tracer-provider';
import { tracingClientInterceptors } from '../telemetry/temporal-tracing';

const CONNECT_WAIT_MS = 120_000;
const log = (message: string, meta?: Record<string, unknown>) =>
  console.log(JSON.stringify({ time: new Date().toISOString(), component: 'worker', message, ...traceFields(), ...meta }));

async function main() {
  // Fails closed: no Meta settings and no MM_SANDBOX=true → exit 1 naming each missing one.
  const config = loadConfig(process.env, { role: 'worker' });
  await assertSandboxRunning(config);
  // Before any Temporal client: its interceptors follow whether this process traces.
  const tracing = startTracing(config.tracing);
  if (config.sandbox) log('SANDBOX MODE (MM_SANDBOX=true): every Graph call goes to the sandbox; nothing talks to Meta', { graph: config.graph.baseUrl });
  Runtime.install({
    logger: new ServiceSdkLogger(),
    telemetryOptions: workerRuntimeTelemetry(config),
  });
  const connectLog = { waitMs: CONNECT_WAIT_MS, log: (line: string) => log(line) };
  const clientConnection = await connectClient(config, connectLog);
  const connection = await connectWorker(config, connectLog);
  const added = await ensureSearchAttributes(clientConnection, config.temporal.namespace);
  if (added.length) log('registered search attributes', { added });
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace, interceptors: tracingClientInterceptors() });
  const workers = await createWorkers(config, connection, client);
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopping = true;
      log('stopping: draining activities in flight', { signal });
      workers.shutdown();
    });
  }
  log('worker polling', { config: describeConfig(config), version: workers.version });
  const running = workers.run();
  let stopWatching: (() => void) | undefined;
  if (config.temporal.deployment.setCurrentOnStart) {
    // TEMPORAL_WORKER_SET_CURRENT=true (dev, tests, a single stack): this worker makes its build
    // current and brings the older builds' runs onto it, refusing if the replaced ones cannot replay here.
    try {
      await workers.takeOver({ timeoutMs: CONNECT_WAIT_MS, log: (line) => log(line) });
    } catch (err) {
      // Told to stop while waiting: that is a normal stop, not a failure.
      if (!stopping) {
        workers.shutdown();
        await running.catch(() => undefined);
        throw err;
      }
    }
  } else {
    // A rollout: an operator makes this build current (docs/versioning.md); its release starts then.
    stopWatching = workers.watchForRelease({ log: (line) => log(line) });
  }
  await running;
  stopWatching?.();
  await clientConnection.close();
  await connection.close();
  await tracing?.shutdown();
  log('stopped');
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : `worker failed: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
