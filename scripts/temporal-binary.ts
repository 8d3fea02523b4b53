import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** The pinned `temporal` CLI, found on PATH or in the cache, else built from source (first run only). */
export function temporalBinary(): string {
  const script = path.join(__dirname, 'ensure-temporal.sh');
  return execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}
