/** Every secret variable can be given as `<NAME>_FILE` (Docker and Kubernetes secrets). */
import path from 'node:path';
import { describeConfig, loadConfig } from '../../config';
import { problemsOf, secretFiles } from '../harness/config-problems';
import { SECRET_VARIABLES } from '../../config/secret-files';

const { dir, write: secretFile } = secretFiles('mm-secret-files-');


test('every secret is read from its _FILE, less the trailing newline `echo` leaves', () => {
  expect([...SECRET_VARIABLES].sort()).toEqual(
    ['API_KEYS', 'CODEC_KEYS', 'META_ACCESS_TOKEN', 'META_APP_SECRET', 'METRICS_BEARER_TOKEN', 'PARTNER_CALLBACK_SECRET', 'TEMPORAL_API_KEY', 'WEBHOOK_VERIFY_TOKEN'],
  );
  const config = loadConfig({
    META_APP_ID: '123',
    TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
    PARTNER_CALLBACK_URL: 'https://partner.example/hooks',
    META_ACCESS_TOKEN_FILE: secretFile('token', 'system-user-token\n'),
    META_APP_SECRET_FILE: secretFile('app-secret', 'app-secret\n'),
    WEBHOOK_VERIFY_TOKEN_FILE: secretFile('verify', 'verify-token'),
    API_KEYS_FILE: secretFile('api-keys', 'key-a,key-b\n'),
    PARTNER_CALLBACK_SECRET_FILE: secretFile('callback', 'callback-secret\n'),
    CODEC_KEYS_FILE: secretFile('codec', 'ops-1\n'),
    TEMPORAL_API_KEY_FILE: secretFile('temporal-key', 'cloud-key\n'),
    METRICS_BEARER_TOKEN_FILE: secretFile('metrics', 'scraper-key-0123456789\n'),
  });
  expect(config.sandbox).toBeUndefined();
  expect(config.graph.accessToken).toBe('system-user-token');
  expect(config.meta.appSecret).toBe('app-secret');
  expect(config.webhookVerifyToken).toBe('verify-token');
  expect(config.apiKeys).toEqual(['key-a', 'key-b']);
  expect(config.partnerCallback).toEqual({ url: 'https://partner.example/hooks', secret: 'callback-secret' });
  expect(config.codec.keys).toEqual(['ops-1']);
  expect(config.temporal.connection.apiKey).toBe('cloud-key');
  expect(config.metricsBearerToken).toBe('scraper-key-0123456789');
  const described = JSON.stringify(describeConfig(config));
  for (const secret of ['system-user-token', 'app-secret', 'verify-token', 'key-a', 'callback-secret', 'ops-1', 'cloud-key', 'scraper-key-0123456789']) expect(described).not.toContain(secret);
});

test('a secret given both ways is refused, naming it (never its value)', () => {
  const problems = problemsOf({ MM_SANDBOX: 'true', CODEC_KEYS: 'ops-1', CODEC_KEYS_FILE: secretFile('codec-2', 'ops-2') });
  expect(problems).toEqual(['CODEC_KEYS and CODEC_KEYS_FILE are both set; give the secret one way only']);
});

test('a _FILE that cannot be read stops start-up naming the variable and the path', () => {
  const missing = path.join(dir, 'missing');
  expect(problemsOf({ MM_SANDBOX: 'true', API_KEYS_FILE: missing })).toEqual([`API_KEYS_FILE cannot be read (ENOENT: ${missing})`]);
});

test('an empty secret file counts as unset (an optional secret mounted from an empty file)', () => {
  const config = loadConfig({ MM_SANDBOX: 'true', PARTNER_CALLBACK_SECRET_FILE: secretFile('empty', ''), CODEC_KEYS_FILE: secretFile('empty2', '\n') });
  expect(config.partnerCallback).toBeUndefined();
  expect(config.codec.keys).toEqual([]);
});

test('every <NAME>_FILE a missing-setting message offers is read (META_APP_ID, no secret, is offered without one)', () => {
  const offered = new Set<string>();
  for (const role of ['api', 'worker', 'all'] as const) {
    for (const problem of problemsOf({}, role)) for (const [, name] of problem.matchAll(/\b([A-Z][A-Z0-9_]*)_FILE\b/g)) offered.add(name);
  }
  expect([...offered].sort()).toEqual(['API_KEYS', 'META_ACCESS_TOKEN', 'META_APP_SECRET', 'WEBHOOK_VERIFY_TOKEN']);
  for (const name of offered) {
    const value = name === 'API_KEYS' ? 'key-from-file' : `${name.toLowerCase()}-from-file`;
    const problems = problemsOf({ [`${name}_FILE`]: secretFile(`offered-${name}`, `${value}\n`) }, 'api');
    expect(problems.filter((p) => p.startsWith(`${name} `))).toEqual([]);
  }
  expect(problemsOf({}, 'api')).toContain('META_APP_ID is required (MM_SANDBOX=true runs against the built-in sandbox instead)');
});

