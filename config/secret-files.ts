import { readFileSync } from 'node:fs';

/**
 * The variables that hold secrets. Each can also be given as `<NAME>_FILE`, the path of a file that
 * holds the value (the Docker and Kubernetes secrets convention: /run/secrets/<name>), so a secret
 * never has to sit in the process environment or in `docker inspect`.
 */
export const SECRET_VARIABLES = [
  'META_ACCESS_TOKEN',
  'META_APP_SECRET',
  'WEBHOOK_VERIFY_TOKEN',
  'API_KEYS',
  'PARTNER_CALLBACK_SECRET',
  'CODEC_KEYS',
  'METRICS_BEARER_TOKEN',
  'TEMPORAL_API_KEY',
] as const;

type Env = Record<string, string | undefined>;

/**
 * The environment with every `<NAME>_FILE` read into `<NAME>` (one trailing newline dropped, as
 * `echo x > file` leaves one). Both set, or a file that cannot be read: a problem naming the variable
 * (never the value).
 */
export function withSecretFiles(env: Env, problems: string[]): Env {
  const resolved: Env = { ...env };
  for (const name of SECRET_VARIABLES) {
    const fileVar = `${name}_FILE`;
    const file = env[fileVar]?.trim();
    delete resolved[fileVar];
    if (!file) continue;
    if (env[name] !== undefined && env[name]!.trim() !== '') {
      problems.push(`${name} and ${fileVar} are both set; give the secret one way only`);
      continue;
    }
    try {
      resolved[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      problems.push(`${fileVar} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}: ${file})`);
    }
  }
  return resolved;
}
