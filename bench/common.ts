/** What the benchmarks share: autocannon's types, argument bounds, loopback servers and child processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type express from 'express';

// autocannon ships no types; this is the part the benchmarks use.
export interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p90: number; p99: number; average: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  '2xx': number;
  duration: number;
}
export interface AutocannonRequest {
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
}
export type Autocannon = (opts: {
  url: string;
  connections: number;
  duration: number;
  /** Fixed rate over all connections (latencies then account for coordinated omission). */
  overallRate?: number;
  requests: AutocannonRequest[];
}) => Promise<AutocannonResult>;
export const autocannon = require('autocannon') as Autocannon;

/** Runs each call it is given once fewer than `limit` are in flight, in the order given. */
export function limiter(limit: number) {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async <T>(call: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((r) => waiting.push(r));
    else running++;
    try {
      return await call();
    } finally {
      const next = waiting.shift();
      if (next) next(); // the slot passes on
      else running--;
    }
  };
}

/** A command-line number, or a clear error naming the flag. */
export function boundedInt(value: string | undefined, min: number, max: number, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be a whole number from ${min} to ${max}`);
  return n;
}

export function listen(app: express.Express): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(server)));
  });
}

export const urlOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

export function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

const ROOT = path.resolve(__dirname, '..');

/** A TypeScript entry point in its own node process; `peakRssMb()` reads its VmHWM. */
export function spawnNode(script: string, env: Record<string, string>, opts: { stdout?: 'ignore' | 'pipe'; args?: string[]; ipc?: boolean } = {}) {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, script), ...(opts.args ?? [])], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    // The worker's own log lines would drown the figures; its errors still show.
    stdio: ['ignore', opts.stdout ?? 'ignore', 'inherit', ...(opts.ipc ? (['ipc'] as const) : [])],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let peakKb = 0;
  const sample = () => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      peakKb = Math.max(peakKb, Number(status.match(/VmHWM:\s+(\d+)/)?.[1] ?? 0));
    } catch {
      // exited
    }
  };
  const sampler = setInterval(sample, 1_000);
  return {
    child,
    peakRssMb: () => (sample(), Math.round(peakKb / 1024)),
    async stop() {
      clearInterval(sampler);
      sample();
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return; // exited (or stopped before)
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on every Linux build in use). */
const USER_HZ = 100;

/**
 * CPU seconds (user + system) used so far by a process and every process below it, read from /proc:
 * where a benchmark's time goes when several processes share the cores. 0 for a process gone.
 */
export function treeCpuSeconds(pid: number): number {
  let ticks = 0;
  const visit = (p: number, depth: number) => {
    try {
      // The command name (field 2) may hold spaces: the times come after its closing parenthesis.
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
      if (depth >= 8) return;
      for (const task of readdirSync(`/proc/${p}/task`)) {
        for (const child of readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').split(' ').filter(Boolean)) visit(Number(child), depth + 1);
      }
    } catch {
      // exited between the reads
    }
  };
  visit(pid, 0);
  return ticks / USER_HZ;
}

/** Polls `probe` every 200 ms until it answers (a throw counts as not yet), at most `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The stand-in secrets a bench's stack runs with (the Graph sandbox is made with the same). */
export const BENCH_SECRETS = { token: 'bench-system-user-token', appId: 'bench-app', appSecret: 'bench-app-secret', verify: 'bench-verify', apiKey: 'bench-key' };

/**
 * A bench stack's service environment: its own task queue and Worker Deployment (made current by the
 * worker itself once it polls), Graph at the sandbox, the stand-in secrets.
 */
export function benchServiceEnv(temporalAddress: string, name: string, sandboxUrl: string, graphMaxRps: number): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_TASK_QUEUE: name,
    TEMPORAL_DEPLOYMENT_NAME: name,
    TEMPORAL_WORKER_SET_CURRENT: 'true',
    GRAPH_API_BASE_URL: sandboxUrl,
    META_ACCESS_TOKEN: BENCH_SECRETS.token,
    META_APP_ID: BENCH_SECRETS.appId,
    META_APP_SECRET: BENCH_SECRETS.appSecret,
    WEBHOOK_VERIFY_TOKEN: BENCH_SECRETS.verify,
    API_KEYS: BENCH_SECRETS.apiKey,
    GRAPH_MAX_RPS: String(graphMaxRps),
  };
}
