/**
 * docker-compose.yml resolved as Compose resolves it (interpolation, then the Compose Specification's
 * schema; test/harness/compose.ts), without a Docker engine: what `docker compose config` would say.
 */
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SECRET_VARIABLES } from '../../config/secret-files';
import { ComposeError, resolveCompose, serviceEnvironment, serviceSecretMounts, type ComposeProject, type Env } from '../harness/compose';
import { repoRoot } from '../harness/image-build';

/** The variables .env.example lists, each with its example value (commented-out ones are optional). */
function envExample(): { required: string[]; optional: string[]; values: Env } {
  const lines = readFileSync(path.join(repoRoot, '.env.example'), 'utf8').split('\n');
  const required: string[] = [];
  const optional: string[] = [];
  const values: Env = {};
  for (const line of lines) {
    const set = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    const commented = /^#\s?([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (set) {
      required.push(set[1]);
      values[set[1]] = set[2];
    } else if (commented) optional.push(commented[1]);
  }
  return { required, optional, values };
}

const resolveError = (env: Env) => {
  try {
    resolveCompose(env);
  } catch (err) {
    if (err instanceof ComposeError) return err.message;
    throw err;
  }
  return undefined;
};

describe('docker-compose.yml, resolved as Compose does', () => {
  const example = envExample();
  let project: ComposeProject;
  beforeAll(() => {
    project = resolveCompose(example.values);
  });

  test('with the variables .env.example sets it matches the Compose Specification schema', () => {
    expect(example.required).toEqual(
      expect.arrayContaining(['POSTGRES_PASSWORD', 'META_APP_ID', 'META_ACCESS_TOKEN_FILE', 'META_APP_SECRET_FILE', 'WEBHOOK_VERIFY_TOKEN_FILE', 'API_KEYS_FILE']),
    );
    expect(Object.keys(project.services).sort()).toEqual(['api', 'postgresql', 'prometheus', 'temporal', 'temporal-namespace', 'temporal-schema', 'temporal-ui', 'worker']);
  });

  test.each(['POSTGRES_PASSWORD', 'META_ACCESS_TOKEN_FILE', 'META_APP_SECRET_FILE', 'WEBHOOK_VERIFY_TOKEN_FILE', 'API_KEYS_FILE'])(
    'without %s (or with it empty) Compose stops before anything starts, naming it',
    (name) => {
      for (const value of [undefined, '']) {
        expect(resolveError({ ...example.values, [name]: value })).toMatch(new RegExp(`required variable ${name} is missing a value: set ${name} `));
      }
    },
  );

  test('a key the Compose Specification does not know fails validation', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mm-compose-'));
    const file = path.join(dir, 'docker-compose.yml');
    writeFileSync(file, readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8').replace('    healthcheck:\n', '    helthcheck:\n'));
    expect(() => resolveCompose(example.values, file)).toThrow(/does not match the Compose Specification: .*must NOT have additional properties/);
  });

  test('PostgreSQL and Temporal get the one password given, and it has no default', () => {
    const passwords = ['postgresql', 'temporal-schema', 'temporal'].map((s) => serviceEnvironment(project.services[s]).POSTGRES_PASSWORD);
    expect(passwords).toEqual([example.values.POSTGRES_PASSWORD, example.values.POSTGRES_PASSWORD, example.values.POSTGRES_PASSWORD]);
    expect(readFileSync(path.join(repoRoot, 'deploy/temporal/setup-schema.sh'), 'utf8')).toContain('${POSTGRES_PASSWORD:?');
    expect(readFileSync(path.join(repoRoot, 'deploy/temporal/config/production.yaml'), 'utf8')).not.toMatch(/POSTGRES_PASSWORD" \| default/);
  });

  test('every secret reaches the API and the workers as a Docker secret file, never as a plain variable', () => {
    for (const name of ['api', 'worker']) {
      const service = project.services[name];
      const env = serviceEnvironment(service);
      const mounts = serviceSecretMounts(project, service);
      for (const secret of SECRET_VARIABLES) expect([name, secret, env[secret]]).toEqual([name, secret, undefined]);
      const fileVars = Object.entries(env).filter(([k]) => k.endsWith('_FILE'));
      expect(fileVars.length).toBeGreaterThan(0);
      for (const [k, v] of fileVars) {
        expect(SECRET_VARIABLES).toContain(k.replace(/_FILE$/, ''));
        expect([name, k, mounts.map((m) => m.target)]).toEqual([name, k, expect.arrayContaining([v])]);
      }
    }
    const apiFiles = Object.keys(serviceEnvironment(project.services.api)).filter((k) => k.endsWith('_FILE')).sort();
    expect(apiFiles).toEqual(['API_KEYS_FILE', 'CODEC_KEYS_FILE', 'META_ACCESS_TOKEN_FILE', 'META_APP_SECRET_FILE', 'METRICS_BEARER_TOKEN_FILE', 'PARTNER_CALLBACK_SECRET_FILE', 'TEMPORAL_API_KEY_FILE', 'WEBHOOK_VERIFY_TOKEN_FILE']);
    // The optional ones default to an empty file: the service reads that as unset.
    expect(readFileSync(path.join(repoRoot, project.secrets!.codec_keys.file!), 'utf8')).toBe('');
    // Nothing turns sandbox mode on in this stack.
    for (const name of ['api', 'worker']) expect(serviceEnvironment(project.services[name]).MM_SANDBOX).toBeUndefined();
  });

  test('long-running services have health checks and restart; every dependency waits on a condition of a service that exists', () => {
    for (const [name, service] of Object.entries(project.services)) {
      for (const [dep, { condition }] of Object.entries((service.depends_on ?? {}) as Record<string, { condition: string }>)) {
        expect(Object.keys(project.services)).toContain(dep);
        // A one-shot is waited for to finish; a long-running service to be healthy.
        const oneShot = project.services[dep].restart?.startsWith('on-failure');
        expect([name, dep, condition]).toEqual([name, dep, oneShot ? 'service_completed_successfully' : 'service_healthy']);
        if (!oneShot) expect([dep, project.services[dep].healthcheck?.test]).toEqual([dep, expect.any(Array)]);
      }
      if (!service.restart?.startsWith('on-failure') && name !== 'temporal-ui') {
        expect([name, service.healthcheck?.test]).toEqual([name, expect.any(Array)]);
      }
    }
  });

  test('every image is pinned to a version (no floating major or latest tag)', () => {
    for (const [name, service] of Object.entries(project.services)) {
      if (service.build) continue;
      expect([name, service.image]).toEqual([name, expect.stringMatching(/^[\w./-]+:v?\d+\.\d+(\.\d+)?$/)]);
    }
  });

  test('the workers\' and the Temporal server\'s metrics are on the stack\'s network, where deploy/prometheus/prometheus.yml scrapes them', () => {
    const scrape = readFileSync(path.join(repoRoot, 'deploy/prometheus/prometheus.yml'), 'utf8');
    expect(project.services.worker.expose).toEqual([serviceEnvironment(project.services.worker).WORKER_METRICS_PORT]);
    expect(scrape).toMatch(new RegExp(`names: \\['worker'\\]\\s+type: A\\s+port: ${project.services.worker.expose![0]}`));
    expect(project.services.temporal.expose).toEqual(['8000']);
    expect(readFileSync(path.join(repoRoot, 'deploy/temporal/config/production.yaml'), 'utf8')).toContain('default "8000"');
    expect(scrape).toContain("targets: ['temporal:8000']");
    expect(scrape).toContain(`targets: ['api:${serviceEnvironment(project.services.api).PORT}']`);
    // The prometheus service (profile observability) runs that directory, with the API's scrape key
    // where the scrape config reads it, and the version the tests run.
    const prometheus = project.services.prometheus;
    expect(prometheus.volumes).toContain('./deploy/prometheus:/etc/prometheus:ro');
    expect(serviceSecretMounts(project, prometheus).map((m) => m.target)).toContain('/run/secrets/metrics_bearer_token');
    expect(scrape).toContain('credentials_file: /run/secrets/metrics_bearer_token');
    const pinned = /^version="([\d.]+)"$/m.exec(readFileSync(path.join(repoRoot, 'scripts/ensure-prometheus.sh'), 'utf8'))?.[1];
    expect(prometheus.image).toBe(`prom/prometheus:v${pinned}`);
  });

  test('the Temporal API key and TLS settings reach both services: off when unset, as files when given', () => {
    const off = (name: string) => serviceEnvironment(project.services[name]);
    for (const name of ['api', 'worker']) {
      expect(off(name)).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_API_KEY_FILE: '/run/secrets/temporal_api_key', TEMPORAL_TLS: '', TEMPORAL_TLS_CLIENT_CERT_PATH: '' });
      expect(serviceSecretMounts(project, project.services[name]).map((m) => m.target)).toContain('/run/secrets/temporal_api_key');
    }
    expect(readFileSync(path.join(repoRoot, project.secrets!.temporal_api_key.file!), 'utf8')).toBe('');
    const given = resolveCompose({
      ...example.values,
      TEMPORAL_ADDRESS: 'my-ns.a1b2c.tmprl.cloud:7233',
      TEMPORAL_API_KEY_FILE: './.secrets/temporal_api_key',
      TEMPORAL_TLS: 'true',
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
      TEMPORAL_TLS_CLIENT_CERT_FILE: './.secrets/client.pem',
      TEMPORAL_TLS_CLIENT_KEY_FILE: './.secrets/client.key',
      TEMPORAL_TLS_SERVER_CA_CERT_FILE: './.secrets/ca.pem',
    });
    for (const name of ['api', 'worker']) {
      const service = given.services[name];
      expect(serviceEnvironment(service)).toMatchObject({
        TEMPORAL_ADDRESS: 'my-ns.a1b2c.tmprl.cloud:7233',
        TEMPORAL_TLS: 'true',
        TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
        TEMPORAL_TLS_CLIENT_CERT_PATH: '/run/secrets/temporal_tls_client_cert',
        TEMPORAL_TLS_CLIENT_KEY_PATH: '/run/secrets/temporal_tls_client_key',
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/run/secrets/temporal_tls_server_ca_cert',
      });
      const mounts = serviceSecretMounts(given, service).map((m) => m.target);
      for (const p of ['temporal_tls_client_cert', 'temporal_tls_client_key', 'temporal_tls_server_ca_cert']) expect(mounts).toContain(`/run/secrets/${p}`);
    }
    expect(given.secrets!.temporal_tls_client_key.file).toBe('./.secrets/client.key');
  });

  test('the one-shot services run the schema-setup and namespace scripts that `npm run test:production` runs', () => {
    const cluster = readFileSync(path.join(repoRoot, 'scripts/production-cluster.ts'), 'utf8');
    for (const [service, script] of [['temporal-schema', 'setup-schema.sh'], ['temporal-namespace', 'create-namespace.sh']] as const) {
      const s = project.services[service];
      expect(s.entrypoint).toEqual(['sh', `/${script}`]);
      const mount = s.volumes?.find((v) => v.split(':')[1] === `/${script}`);
      expect(mount).toBe(`./deploy/temporal/${script}:/${script}:ro`);
      expect(existsSync(path.join(repoRoot, 'deploy/temporal', script))).toBe(true);
      expect(cluster).toContain(`'${script}'`);
    }
    expect(project.services.temporal.volumes).toContain('./deploy/temporal/config:/etc/temporal/config:ro');
  });
});
