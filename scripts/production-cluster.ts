/**
 * A real Temporal cluster on this machine, as docker-compose.yml runs it but without Docker:
 * PostgreSQL from Debian's packages in a throw-away data directory (run as the postgres user on a
 * loopback port), the schemas through Temporal's SQL tool, and Temporal Server 1.32.2 built from
 * source, rendering deploy/temporal/config/production.yaml, the same file the compose file mounts.
 * Everything listens on 127.0.0.1 and is removed by `stop()`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitUntilServing } from './dev-server';
import { temporalBinary } from './temporal-binary';

const run = promisify(execFile);
const repo = path.resolve(__dirname, '..');
const deployDir = path.join(repo, 'deploy', 'temporal');

export interface ProductionCluster {
  /** Frontend gRPC address. */
  address: string;
  namespace: string;
  /** Stops the Temporal server process (SIGTERM, SIGKILL after 10 s); PostgreSQL keeps running. */
  stopServer(): Promise<void>;
  /** Starts the server again on the same ports and database and waits until it serves. */
  startServer(): Promise<void>;
  /** The ERROR lines PostgreSQL has logged so far (e.g. a visibility row it refused). */
  postgresErrors(): string[];
  /** Stops everything and deletes the database. */
  stop(): Promise<void>;
}

export interface ProductionClusterOptions {
  namespace?: string;
  log?: (line: string) => void;
}

function scriptOutput(script: string): Promise<string> {
  return run('bash', [path.join(repo, 'scripts', script)], { maxBuffer: 1 << 24 }).then((r) => r.stdout.trim());
}

/** Runs a command as the postgres user when we are root (PostgreSQL refuses to run as root). */
function asPostgres(bin: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * A free port p with p + 1000 free too (each service's membership port is its gRPC port + 1000),
 * both below 32768: the SQL membership table stores ports as smallint, so ephemeral ports won't do.
 */
async function freePortWithMembership(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const p = 20_000 + Math.floor(Math.random() * 11_000);
    if (taken.has(p) || taken.has(p + 1000)) continue;
    if ((await isFree(p)) && (await isFree(p + 1000))) {
      taken.add(p).add(p + 1000);
      return p;
    }
  }
  throw new Error('no free port pair found on 127.0.0.1');
}

export async function startProductionCluster(opts: ProductionClusterOptions = {}): Promise<ProductionCluster> {
  const log = opts.log ?? (() => undefined);
  const namespace = opts.namespace ?? 'default';
  const [serverDir, pgBin, temporalCli] = await Promise.all([
    scriptOutput('ensure-temporal-server.sh'),
    scriptOutput('ensure-postgres.sh'),
    Promise.resolve(temporalBinary()),
  ]);
  const cleanups: Array<() => Promise<void> | void> = [];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch((err) => log(`cleanup: ${err}`));
    cleanups.length = 0;
  };

  try {
    // PostgreSQL: a fresh cluster in a temp dir, owned by the postgres user, socket in the dir itself.
    const work = mkdtempSync(path.join(tmpdir(), 'mm-temporal-pg-'));
    cleanups.push(() => rmSync(work, { recursive: true, force: true }));
    const dataDir = path.join(work, 'data');
    const pgPort = await freePort();
    if (process.getuid?.() === 0) chownSync(work, Number((await run('id', ['-u', 'postgres'])).stdout), Number((await run('id', ['-g', 'postgres'])).stdout));
    const pwFile = path.join(work, 'pw');
    writeFileSync(pwFile, 'temporal\n');
    if (process.getuid?.() === 0) chownSync(pwFile, Number((await run('id', ['-u', 'postgres'])).stdout), 0);
    await run(...asPostgres(path.join(pgBin, 'initdb'), ['-D', dataDir, '-U', 'temporal', '--pwfile', pwFile, '-A', 'scram-sha-256', '-E', 'UTF8', '--no-sync']));
    const pgOptions = `-p ${pgPort} -k ${work} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=200`;
    const pgLog = path.join(work, 'postgres.log');
    await run(...asPostgres(path.join(pgBin, 'pg_ctl'), ['-D', dataDir, '-o', pgOptions, '-l', pgLog, '-w', '-t', '60', 'start']));
    const postgresErrors = () => (existsSync(pgLog) ? readFileSync(pgLog, 'utf8').split('\n').filter((line) => /\bERROR:/.test(line)) : []);
    cleanups.push(async () => {
      await run(...asPostgres(path.join(pgBin, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop']));
    });
    log(`PostgreSQL on 127.0.0.1:${pgPort}`);

    const pgEnv = { POSTGRES_HOST: '127.0.0.1', POSTGRES_PORT: String(pgPort), POSTGRES_USER: 'temporal', POSTGRES_PASSWORD: 'temporal' };
    const schema = await run('sh', [path.join(deployDir, 'setup-schema.sh')], {
      env: { ...process.env, ...pgEnv, SQL_TOOL: path.join(serverDir, 'temporal-sql-tool') },
    });
    log(schema.stdout.trim().split('\n').pop() ?? '');

    const taken = new Set<number>([pgPort]);
    const ports = {
      TEMPORAL_FRONTEND_PORT: await freePortWithMembership(taken),
      TEMPORAL_HISTORY_PORT: await freePortWithMembership(taken),
      TEMPORAL_MATCHING_PORT: await freePortWithMembership(taken),
      TEMPORAL_WORKER_PORT: await freePortWithMembership(taken),
      TEMPORAL_METRICS_PORT: await freePort(),
    };
    const address = `127.0.0.1:${ports.TEMPORAL_FRONTEND_PORT}`;
    const serverEnv = {
      ...process.env,
      ...pgEnv,
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
      TEMPORAL_BIND_IP: '127.0.0.1',
    };

    let child: ChildProcess | undefined;
    let exited: Promise<number | null> = Promise.resolve(null);
    const startServer = async () => {
      child = spawn(
        path.join(serverDir, 'temporal-server'),
        ['--root', deployDir, '--config', 'config', '--env', 'production', '--allow-no-auth', 'start'],
        { cwd: deployDir, env: serverEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
      );
      const c = child;
      exited = new Promise((resolve) => c.once('exit', (code) => resolve(code)));
      const tail: string[] = [];
      const keep = (d: string) => {
        for (const line of d.split('\n').filter(Boolean)) {
          tail.push(line);
          if (tail.length > 30) tail.shift();
        }
      };
      c.stdout?.setEncoding('utf8').on('data', keep);
      c.stderr?.setEncoding('utf8').on('data', keep);
      try {
        await waitUntilServing(address, exited, 120_000);
      } catch (err) {
        throw new Error(`${(err as Error).message.replace('dev server', 'server')}\n${tail.join('\n')}`);
      }
    };
    const stopServer = async () => {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    };
    const killOnExit = () => child?.kill('SIGKILL');
    process.once('exit', killOnExit);
    cleanups.push(() => {
      process.removeListener('exit', killOnExit);
      return stopServer();
    });
    await startServer();
    log(`Temporal Server on ${address}`);

    await run('sh', [path.join(deployDir, 'create-namespace.sh')], {
      env: { ...process.env, TEMPORAL_CLI: temporalCli, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace },
    });
    return { address, namespace, stopServer, startServer, postgresErrors, stop: cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
