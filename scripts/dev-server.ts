import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_TYPE_NAMES, SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { temporalBinary } from './temporal-binary';

export interface DevServerOptions {
  /** gRPC port; 0 picks a free one. */
  port?: number;
  /** Web UI port; omitted runs headless. */
  uiPort?: number;
  /** SQLite file; omitted keeps everything in memory. */
  dbFile?: string;
  namespace?: string;
  /** Where the server's own log lines go. */
  log?: (line: string) => void;
  readyTimeoutMs?: number;
  /** Server dynamic config overrides, e.g. history limits for tests (on top of DEV_SERVER_DYNAMIC_CONFIG). */
  dynamicConfig?: Record<string, string | number | boolean>;
  /** More namespaces to create at launch (with the same search attributes), e.g. one that keeps a test's runs apart. */
  extraNamespaces?: string[];
  /** The server's Prometheus endpoint (`/metrics`); omitted picks a free one. */
  metricsPort?: number;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  /** The server's Prometheus metrics (its `action` counter is what Temporal Cloud would bill): bench/cost.ts reads it. */
  metricsUrl: string;
  /** The server's lifeline process (the server is its child): for a benchmark's CPU accounting. */
  pid: number;
  /** Settles with the exit code when the server exits, whether stopped or died. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Dynamic config every dev server gets (a caller's `dynamicConfig` wins).
 *
 * One partition per task queue, so the Graph queue's rate limit (GRAPH_MAX_RPS, the worker option
 * `maxTaskQueueActivitiesPerSecond`) is one limiter, as in production
 * (deploy/temporal/config/dynamicconfig/production.yaml). The server splits a queue's limit over its
 * read partitions (rate / partitions each, each limiting on its own), and Server 1.32's matcher gives
 * each partition a burst of one second of its share plus one task, so with the default 4 partitions
 * the queue bursts up to GRAPH_MAX_RPS + 4 calls at once (4 at GRAPH_MAX_RPS = 1 or 2) instead of
 * GRAPH_MAX_RPS + 1 (docs/operations.md#one-graph-budget-under-load).
 * `--dynamic-config-value` takes plain values only, not values constrained to one task queue, so
 * here it applies to every queue: the dev server is one process, whose partitions only spread one
 * host's locks.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Record<string, string | number | boolean> = {
  'matching.numTaskqueueReadPartitions': 1,
  'matching.numTaskqueueWritePartitions': 1,
};

/** Tries when a port the server was given (or picked itself) is taken before it binds it. */
const START_ATTEMPTS = 3;

/**
 * Starts `temporal server start-dev` on loopback with the project's search attributes registered,
 * and waits until its frontend answers. The SDK's own launcher gives up after 5 s, too short for a
 * cold start on a busy 2-core machine. Free ports are picked before the server binds them, so
 * another process can take one in between (the HTTP API's port is picked by the CLI itself): a start
 * that dies of "address already in use" is tried again with fresh ports, up to START_ATTEMPTS times.
 */
export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  for (let attempt = 1; ; attempt++) {
    const lines: string[] = [];
    try {
      return await startDevServerOnce({ ...opts, log: (line) => (lines.push(line), opts.log?.(line)) });
    } catch (err) {
      await new Promise((r) => setTimeout(r, 200)); // the server's last lines may come after its exit
      const portTaken = lines.some((l) => l.includes('address already in use'));
      if (!portTaken || attempt >= START_ATTEMPTS) throw err;
      opts.log?.(`a port was taken before the dev server bound it; starting again (attempt ${attempt + 1} of ${START_ATTEMPTS})`);
    }
  }
}

async function startDevServerOnce(opts: DevServerOptions): Promise<DevServer> {
  const port = opts.port || (await freePort());
  const namespace = opts.namespace ?? 'default';
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--namespace', namespace];
  for (const extra of opts.extraNamespaces ?? []) args.push('--namespace', extra);
  args.push('--log-level', 'warn', '--log-format', 'pretty');
  if (opts.uiPort) args.push('--ui-ip', '127.0.0.1', '--ui-port', String(opts.uiPort));
  else args.push('--headless');
  if (opts.dbFile) args.push('--db-filename', opts.dbFile);
  for (const [key, value] of Object.entries({ ...DEV_SERVER_DYNAMIC_CONFIG, ...opts.dynamicConfig })) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  for (const key of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=${SEARCH_ATTRIBUTE_TYPE_NAMES[key.type]}`);
  // The default metrics port is fixed and would collide between several servers on one machine.
  const metricsPort = opts.metricsPort || (await freePort());
  args.push('--metrics-port', String(metricsPort));

  // Through a lifeline (dev-server-lifeline.cjs) that stops the server when our end of its stdin pipe
  // closes: the kernel closes it however we die, SIGKILL included, so no server outlives us.
  // Its own process group: a terminal's Ctrl-C reaches only us, so the server outlives the workers'
  // drain and is stopped last.
  const lifeline = path.join(__dirname, 'dev-server-lifeline.cjs');
  const child = spawn(process.execPath, [lifeline, temporalBinary(), ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdin?.on('error', () => undefined); // never written; it only has to stay open while we live
  // Once we stop it, the server's complaints about its own peers going away are noise.
  let stopping = false;
  const log = (line: string) => {
    if (!stopping) (opts.log ?? (() => undefined))(line);
  };
  child.stdout?.setEncoding('utf8').on('data', (d: string) => d.split('\n').filter(Boolean).forEach(log));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => d.split('\n').filter(Boolean).forEach(log));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const address = `127.0.0.1:${port}`;
  try {
    await waitUntilServing(address, exited, opts.readyTimeoutMs ?? 60_000);
  } catch (err) {
    await stopChild(child, exited);
    throw err;
  }
  return {
    address,
    uiUrl: opts.uiPort ? `http://127.0.0.1:${opts.uiPort}` : undefined,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    pid: child.pid!,
    exited,
    stop: async () => {
      stopping = true;
      await stopChild(child, exited);
    },
  };
}

export async function waitUntilServing(address: string, exited: Promise<number | null>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const died = () => new Error(`temporal dev server exited with code ${exitCode} before serving`);
  for (;;) {
    if (exitCode !== undefined) throw died();
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        // Bounded: a port held by something that is not a gRPC server would otherwise never answer.
        await connection.withDeadline(Date.now() + 2_000, () => connection.workflowService.getSystemInfo({}));
        // An answer while ours has died came from someone else's server on that port.
        if (exitCode !== undefined) throw died();
        return;
      } finally {
        await connection.close();
      }
    } catch {
      if (Date.now() > deadline) throw new Error(`temporal dev server at ${address} not serving after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM'); // the lifeline passes it on, and SIGKILLs the server itself after 10 s
  // Last resort, the lifeline's whole process group (it and the server).
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 15_000);
  await exited;
  clearTimeout(timer);
}

/**
 * A free loopback port, held back from the kernel's ephemeral range for a while. The dev server
 * picks its internal services' ports with listen(:0) too, so a port we merely closed could come back
 * to it as, say, its worker service's port, which then collides with the frontend we hand this one
 * to (seen once: "bind: address already in use", then the dev server's panic). As the CLI's own
 * GetFreePort does, a connection closed from the server's side leaves the port in TIME_WAIT: bind(:0)
 * skips it for about a minute, while an explicit bind (SO_REUSEADDR, as Go and Node set) still works.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      const client = connect(port, '127.0.0.1');
      client.once('error', () => undefined); // 'close' follows either way
      client.once('close', () => server.close(() => resolve(port)));
    });
  });
}
