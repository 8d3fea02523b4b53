/**
 * `npm run release:rehearsal`, the documented rehearsal of a release on one machine (docs/versioning.md):
 * two builds' `npm run worker` processes side by side on one dev server and the sandbox, the operator's
 * `set-current-version --yes` and `npm run release`; every run leaves the old build, which drains, and
 * whose worker stops on SIGTERM; and no process it started outlives it.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

jest.setTimeout(300_000);

/** Pids of the processes whose environment holds `entry` (Linux: /proc/<pid>/environ, our own user's). */
function processesWith(entry: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(entry);
      } catch {
        return false; // gone meanwhile, or not ours
      }
    })
    .map(Number);
}

test('the release rehearsal runs end to end: runs leave the old build, it drains, its worker stops on SIGTERM', async () => {
  // Every process the rehearsal starts inherits this mark, so the test can look for any left behind.
  const mark = `MM_REHEARSAL_RUN=${randomUUID()}`;
  const child = spawn('npm', ['run', '--silent', 'release:rehearsal'], {
    cwd: path.resolve(__dirname, '../..'),
    env: { ...process.env, MM_REHEARSAL_RUN: mark.split('=')[1] },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 280_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`the rehearsal exited ${code}:\n${out}`);
  expect(out).toMatch(/build rehearsal-a: worker polling \(npm run worker/);
  expect(out).toMatch(/no open run left on rehearsal-a after [\d.]+ s/);
  expect(out).toMatch(/rehearsal-a DRAINED after [\d.]+ s/);
  expect(out).toMatch(/worker A stopped on SIGTERM \(exit 0\)/);
  expect(out).toMatch(/to READY on rehearsal-b/);
  expect(out).toContain('rehearsal passed');
  // Both builds' `npm run worker` (npm and the node it starts) and the dev server are gone with it.
  const left = processesWith(mark);
  for (const pid of left) process.kill(pid, 'SIGKILL');
  expect(left).toEqual([]);
});
