/**
 * `npm start` as a real process tree, for tests of the whole stack: free ports, a temporary data
 * dir, a prebuilt workflow bundle (no webpack per start), bounded waits, and a cleanup that kills
 * every process it saw.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { freePort } from '../../scripts/dev-server';
import { workflowBundleOptions } from '../../worker/workflow-bundle';
export { isPortFree } from '../../scripts/ports';
import { waitUntil } from './wait';

const repoRoot = path.resolve(__dirname, '..', '..');

export interface StartedNpm {
  npm: ChildProcess;
  env: Record<string, string>;
  ports: { api: number; sandbox: number; temporal: number; ui: number };
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /**
   * Settles with npm's exit code (or 128 + signal) once its output is complete: npm gone, and every
   * process writing to its output (the app) gone too.
   */
  exited: Promise<number>;
  /** When npm exited and when its output closed (ms since the epoch), for failure messages. */
  exitTimes(): { npm?: number; output?: number };
}

let bundlePath: Promise<string> | undefined;
/** One prebuilt bundle per test file, as `npm run build` would make. */
function prebuiltBundle(dir: string): Promise<string> {
  bundlePath ??= bundleWorkflowCode({ ...workflowBundleOptions, logger: new DefaultLogger('WARN') }).then(({ code }) => {
    const file = path.join(dir, 'workflow-bundle.js');
    writeFileSync(file, code);
    return file;
  });
  return bundlePath;
}

const tmpDirs: string[] = [];
const seenPids = new Set<number>();
const started: StartedNpm[] = [];

export async function freePorts(): Promise<StartedNpm['ports']> {
  const ports = new Set<number>();
  while (ports.size < 4) ports.add(await freePort());
  const [api, sandbox, temporal, ui] = [...ports];
  return { api, sandbox, temporal, ui };
}

/**
 * Stops `first` (SIGTERM, a clean exit within 45 s) and starts `npm start` again on its ports and its
 * data dir, what a developer's second `npm start` gets; `env` on top (another build id, say).
 */
export async function restartNpmStart(first: StartedNpm, env: Record<string, string> = {}): Promise<StartedNpm> {
  process.kill(first.npm.pid!, 'SIGTERM');
  const code = await exitWithin(first, 45_000);
  if (code !== 0) throw new Error(`npm start exited ${code} on SIGTERM:\n${first.output().slice(-2000)}`);
  const second = await spawnNpmStart({
    PORT: String(first.ports.api),
    SANDBOX_PORT: String(first.ports.sandbox),
    TEMPORAL_DEV_PORT: String(first.ports.temporal),
    TEMPORAL_UI_PORT: String(first.ports.ui),
    TEMPORAL_DEV_DB_FILE: first.env.TEMPORAL_DEV_DB_FILE,
    ...env,
  });
  await waitUntilServing(second);
  return second;
}

/** Spawns `npm start` in its own process group with every port free unless `env` says otherwise. */
export async function spawnNpmStart(env: Record<string, string> = {}): Promise<StartedNpm> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mm-npm-start-'));
  tmpDirs.push(dir);
  const ports = await freePorts();
  const fullEnv: Record<string, string> = {
    PORT: String(ports.api),
    SANDBOX_PORT: String(ports.sandbox),
    TEMPORAL_DEV_PORT: String(ports.temporal),
    TEMPORAL_UI_PORT: String(ports.ui),
    TEMPORAL_DEV_DB_FILE: path.join(dir, 'temporal.sqlite'),
    WORKFLOW_BUNDLE_PATH: await prebuiltBundle(dir),
    ...env,
  };
  for (const [name, variable] of [['api', 'PORT'], ['sandbox', 'SANDBOX_PORT'], ['temporal', 'TEMPORAL_DEV_PORT'], ['ui', 'TEMPORAL_UI_PORT']] as const) {
    ports[name] = Number(fullEnv[variable]);
  }
  const inherited = { ...process.env };
  // The suite's own settings must not leak into the stack under test.
  for (const name of ['TEMPORAL_ADDRESS', 'TEMPORAL_TEST_ADDRESS', 'META_ACCESS_TOKEN', 'GRAPH_API_BASE_URL', 'API_KEYS']) delete inherited[name];
  const npm = spawn('npm', ['start'], {
    cwd: repoRoot,
    env: { ...inherited, ...fullEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  seenPids.add(npm.pid!);
  let out = '';
  npm.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  npm.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  // 'close', not 'exit': Node may report the exit before the last output is read, and the app (it
  // inherits npm's pipes) is not npm; 'close' comes once every writer of the pipes is gone.
  const times: { npm?: number; output?: number } = {};
  npm.once('exit', () => (times.npm = Date.now()));
  const exited = new Promise<number>((resolve) =>
    npm.once('close', (code, signal) => {
      times.output = Date.now();
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    }),
  );
  const result = { npm, env: fullEnv, ports, output: () => out, exited, exitTimes: () => ({ ...times }) };
  started.push(result);
  return result;
}

/** npm's exit code, or an error with everything it printed if it is still running after `ms`. */
export async function exitWithin(s: StartedNpm, ms: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      s.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`npm start still running after ${ms} ms:\n${s.output()}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until the API answers /healthz (the last thing start-up does), or npm exits. */
export async function waitUntilServing(s: StartedNpm, timeoutMs = 90_000): Promise<void> {
  let exitCode: number | undefined;
  void s.exited.then((code) => (exitCode = code));
  await waitUntil(
    async () => {
      if (exitCode !== undefined) throw new Error(`npm start exited (${exitCode}) before serving:\n${s.output()}`);
      return (await healthz(s.ports.api)) === 200;
    },
    timeoutMs,
    'npm start to serve /healthz',
  ).catch((err) => {
    throw new Error(`${err.message}\n--- output ---\n${s.output()}`);
  });
}

/** /healthz's status; 'refused' when nothing listens (a slow answer on a loaded machine is not that). */
export async function healthz(port: number): Promise<number | 'refused' | 'no answer'> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(10_000) })).status;
  } catch (err) {
    return (err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED' ? 'refused' : 'no answer';
  }
}

export interface StackProcesses {
  app: number;
  lifeline: number;
  temporal: number;
}

/** The processes under npm: the app (node, npm's child), the dev server's lifeline and the server. */
export function stackProcesses(s: StartedNpm): StackProcesses {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().match(/^(\d+)\s+(\d+)\s+(.*)$/))
    .filter((m): m is RegExpMatchArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3] }));
  const childOf = (ppid: number, like: RegExp) => {
    const row = rows.find((r) => r.ppid === ppid && like.test(r.args));
    if (!row) throw new Error(`no child of ${ppid} like ${like}: ${JSON.stringify(rows.filter((r) => r.ppid === ppid))}`);
    seenPids.add(row.pid);
    return row.pid;
  };
  const app = childOf(s.npm.pid!, /scripts\/start\.ts/);
  const lifeline = childOf(app, /dev-server-lifeline/);
  const temporal = childOf(lifeline, /server start-dev/);
  return { app, lifeline, temporal };
}

/** Alive and not a zombie (an exited child its new parent has not reaped yet). */
export function isRunning(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  try {
    const state = readFileSync(stat, 'utf8').replace(/^.*\) /s, '')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export async function waitUntilGone(pids: number[], timeoutMs = 20_000): Promise<void> {
  await waitUntil(() => pids.every((pid) => !isRunning(pid)), timeoutMs, `processes ${pids.join(', ')} to exit`);
}

/** Kills every process these tests started or saw, and removes their data dirs. */
export async function killEverything(): Promise<void> {
  for (const s of started.splice(0)) {
    try {
      process.kill(-s.npm.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const pid of seenPids) {
    try {
      if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  seenPids.clear();
}

export function removeTmpDirs(): void {
  for (const dir of tmpDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  bundlePath = undefined;
}
