/**
 * `npm run release:rehearsal`, the documented rehearsal of a release on one machine (docs/versioning.md):
 * two builds' `npm run worker` processes side by side on one dev server and the sandbox, the operator's
 * `set-current-version --yes` and `npm run release`; every run leaves the old build, which drains, and
 * whose worker stops on SIGTERM.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

jest.setTimeout(300_000);

test('the release rehearsal runs end to end: runs leave the old build, it drains, its worker stops on SIGTERM', async () => {
  const child = spawn('npm', ['run', '--silent', 'release:rehearsal'], { cwd: path.resolve(__dirname, '../..'), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
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
});
