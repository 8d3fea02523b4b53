/**
 * The image's own build steps (Dockerfile, build stage), run natively into a directory of the repo
 * (so `node` finds node_modules), and its entry points started as the image starts them.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const repoRoot = path.resolve(__dirname, '..', '..');

export interface ImageBuild {
  dir: string;
  bundlePath: string;
  remove(): void;
}

/** `npm run build -- <dir>` (scripts/build.ts), the Dockerfile's build step, into a directory of the repo. */
export async function buildAsTheImageDoes(name: string): Promise<ImageBuild> {
  const dir = path.join(repoRoot, '.build-test', `${name}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await run('npm', ['run', 'build', '--', dir], { cwd: repoRoot, maxBuffer: 1 << 24 });
  return { dir, bundlePath: path.join(dir, 'workflow-bundle.js'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ServiceProcess {
  child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM and wait (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `node <dir>/<entry>` with the given environment only (plus PATH/HOME), like a container's. */
export function startEntryPoint(build: ImageBuild, entry: string, env: Record<string, string>): ServiceProcess {
  return startNode([path.join(build.dir, entry)], { NODE_ENV: 'production', WORKFLOW_BUNDLE_PATH: build.bundlePath, ...env });
}

/** An entry point from source (`node --require tsx/cjs api/main.ts`): one process, signals go straight to it. */
export function startFromSource(entry: string, env: Record<string, string>): ServiceProcess {
  return startNode(['--require', 'tsx/cjs', path.join(repoRoot, entry)], env);
}

function startNode(args: string[], env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output: () => out,
    exited,
    stop: async (graceMs = 30_000) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const result = await exited;
        clearTimeout(timer);
        return result;
      }
      return exited;
    },
  };
}
