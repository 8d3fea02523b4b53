/** What the configuration refuses, for the config tests: the problems of a ConfigError, one a line. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, type ConfigRole } from '../../config';

export function problemsOf(env: Record<string, string | undefined>, role?: ConfigRole): string[] {
  try {
    loadConfig(env, role ? { role } : {});
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

/** A folder of secret files readable only by their owner, as Docker secrets are mounted; `write(name, text)` gives a file's path. */
export function secretFiles(prefix: string): { dir: string; write: (name: string, text: string) => string } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return {
    dir,
    write: (name, text) => {
      const at = path.join(dir, name);
      writeFileSync(at, text, { mode: 0o600 });
      return at;
    },
  };
}
