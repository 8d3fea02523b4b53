/**
 * The one way the API, the workers and the scripts connect to Temporal: the address, namespace, API
 * key, TLS and gRPC metadata that `loadConfig` read through Temporal's environment configuration.
 */
import type { Connection, ConnectionOptions } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import type { Config } from '../config';
import { closingConnection } from './closing-connection';

export interface ConnectOptions {
  /** Keep retrying this long while the server is not up yet (a cluster starting beside us); 0: once. */
  waitMs?: number;
  log?: (line: string) => void;
}

function address(config: Config): string {
  if (!config.temporal.address) throw new Error('No Temporal address: set TEMPORAL_ADDRESS (or a profile with one)');
  return config.temporal.address;
}

export function clientConnectionOptions(config: Config): ConnectionOptions {
  return { address: address(config), ...config.temporal.connection };
}

export function workerConnectionOptions(config: Config): NativeConnectionOptions {
  return { address: address(config), ...config.temporal.connection };
}

/** A client connection (API, scripts), checked with a real call. */
export function connectClient(config: Config, opts: ConnectOptions = {}): Promise<Connection> {
  return retrying('client', opts, async () => {
    // Its retries end when it closes: a retry timer firing after a SIGTERM's close must not throw.
    const connection = closingConnection({ ...clientConnectionOptions(config), connectTimeout: 5_000 });
    try {
      await connection.ensureConnected();
      await connection.workflowService.getSystemInfo({});
      return connection;
    } catch (err) {
      await connection.close();
      throw err;
    }
  });
}

/** A worker connection (the Rust core's; it checks the server when it connects). */
export function connectWorker(config: Config, opts: ConnectOptions = {}): Promise<NativeConnection> {
  return retrying('worker', opts, () => NativeConnection.connect(workerConnectionOptions(config)));
}

async function retrying<T>(what: string, { waitMs = 0, log }: ConnectOptions, connect: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect();
    } catch (err) {
      if (Date.now() + 2_000 > deadline) throw err;
      if (attempt === 1 || attempt % 10 === 0) log?.(`Temporal not reachable yet for the ${what} (${(err as Error).message}); retrying`);
      await new Promise((r) => setTimeout(r, 2_000));
    }
  }
}
