/**
 * The deployment files, checked without a Docker engine: the compose file against the Compose
 * Specification (dclint), the Dockerfile with dockerfile-utils' linter and dockerfile-ast, and the
 * image's own build steps and entry points run natively against the suite's dev server.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DockerfileParser } from 'dockerfile-ast';
import { validate as lintDockerfile } from 'dockerfile-utils';
import { parse as parseYaml } from 'yaml';
import { freePort } from '../../scripts/dev-server';
import { createSandbox } from '../../sandbox';
import { TEST_SECRETS } from '../harness/stack';
import { nativeServiceEnv, resolveCompose } from '../harness/compose';
import { buildAsTheImageDoes, repoRoot, startEntryPoint, type ImageBuild } from '../harness/image-build';
import { BUILD_ASSET_DIRS } from '../../scripts/build';
import { eventually } from '../harness/wait';

const run = promisify(execFile);
const read = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[] | string;
  depends_on?: Record<string, { condition: string }> | string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  restart?: string;
  volumes?: string[];
  ports?: string[];
}
const compose = parseYaml(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };
const services = compose.services;
const dockerfileText = read('Dockerfile');
const dockerfile = DockerfileParser.parse(dockerfileText);

describe('docker-compose.yml', () => {
  test('is a valid Compose file with no lint findings', async () => {
    const styleOnly = ['service-keys-order', 'services-alphabetical-order', 'top-level-properties-order', 'service-dependencies-alphabetical-order'];
    const result = await run(
      path.join(repoRoot, 'node_modules', '.bin', 'dclint'),
      ['docker-compose.yml', '--color', 'false', '--max-warnings', '0', '--disable-rule', ...styleOnly],
      { cwd: repoRoot },
    ).catch((err: { stdout: string; code: number }) => err);
    expect('code' in result ? result.stdout : '').toBe('');
  });

  test('runs Temporal from current images: server + admin-tools for the schema, PostgreSQL, the UI; never auto-setup', () => {
    const images = Object.values(services).map((s) => s.image).filter(Boolean) as string[];
    expect(images.some((i) => i.includes('auto-setup'))).toBe(false);
    // The same server as `npm run test:production` builds (scripts/ensure-temporal-server.sh), and
    // the Web UI the dev server serves (scripts/ensure-temporal.sh).
    const pinned = (script: string, name: string) => read(`scripts/${script}`).match(new RegExp(`^${name}="([^"]+)"`, 'm'))?.[1];
    const server = pinned('ensure-temporal-server.sh', 'version');
    expect(server).toMatch(/^1\.\d+\.\d+$/);
    expect(services.temporal.image).toBe(`temporalio/server:${server}`);
    expect(services['temporal-schema'].image).toBe(`temporalio/admin-tools:${server}`);
    expect(services['temporal-namespace'].image).toBe(`temporalio/admin-tools:${server}`);
    expect(pinned('ensure-temporal.sh', 'server_version')).toBe(server);
    expect(services['temporal-ui'].image).toBe(`temporalio/ui:${pinned('ensure-temporal.sh', 'ui_version')}`);
    expect(services.postgresql.image).toMatch(/^postgres:\d+\.\d+$/);
  });

  test('every dependency waits on a condition, and long-running services restart and have health checks', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.depends_on) {
        expect([name, Array.isArray(service.depends_on)]).toEqual([name, false]);
        for (const dep of Object.values(service.depends_on as Record<string, { condition: string }>)) {
          expect(['service_healthy', 'service_completed_successfully', 'service_started']).toContain(dep.condition);
        }
      }
      expect([name, service.restart]).toEqual([name, expect.stringMatching(/^(unless-stopped|always|on-failure(:\d+)?)$/)]);
    }
    for (const name of ['postgresql', 'temporal', 'api', 'worker']) expect([name, services[name].healthcheck?.test]).toEqual([name, expect.any(Array)]);
    expect(services.api.depends_on).toEqual({ 'temporal-namespace': { condition: 'service_completed_successfully' } });
    expect(services.temporal.depends_on).toEqual({ 'temporal-schema': { condition: 'service_completed_successfully' } });
  });

  test('the API and the workers are separate services of one image, listening on 0.0.0.0 in the container', () => {
    // One build of the Dockerfile, labelled with the commit (the workers' build id).
    expect(services.api.build).toEqual({ context: '.', args: { GIT_COMMIT: '${GIT_COMMIT:-}' } });
    expect(services.worker.build).toEqual(services.api.build);
    expect(services.api.command).toEqual(['node', 'dist/api/main.js']);
    expect(services.worker.command).toEqual(['node', 'dist/worker/main.js']);
    expect(services.api.environment?.HOST).toBe('0.0.0.0');
    // The stack's own server unless TEMPORAL_ADDRESS names another (Temporal Cloud: docs/operations.md).
    expect(services.worker.environment?.TEMPORAL_ADDRESS).toBe('${TEMPORAL_ADDRESS:-temporal:7233}');
    // Published only on the host's loopback.
    for (const s of Object.values(services)) for (const p of s.ports ?? []) expect(p).toMatch(/^127\.0\.0\.1:/);
  });

  test('the Temporal server mounts the config that `npm run test:production` runs, and the setup scripts it runs too', () => {
    const mount = services.temporal.volumes?.find((v) => v.endsWith(':/etc/temporal/config:ro'));
    expect(mount).toBe('./deploy/temporal/config:/etc/temporal/config:ro');
    expect(existsSync(path.join(repoRoot, 'deploy/temporal/config/production.yaml'))).toBe(true);
    expect(String(services.temporal.entrypoint)).toContain('--config config --env production');
    expect(read('scripts/production-cluster.ts')).toContain("'--config', 'config', '--env', 'production'");
    for (const [service, script] of [['temporal-schema', 'setup-schema.sh'], ['temporal-namespace', 'create-namespace.sh']]) {
      expect(services[service].volumes).toContain(`./deploy/temporal/${script}:/${script}:ro`);
      expect(read('scripts/production-cluster.ts')).toContain(`'${script}'`);
    }
  });
});

describe('Dockerfile', () => {
  test('has no findings from the Dockerfile linter', () => {
    expect(lintDockerfile(dockerfileText).map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  });

  test('builds on a supported Node LTS line and runs as a non-root user', () => {
    for (const from of dockerfile.getFROMs()) {
      expect(from.getImageName()).toBe('node');
      const major = Number(from.getImageTag()?.split('-')[0]);
      // Even majors are LTS; 22 and 24 are supported through 2027 and 2028.
      expect(major % 2 === 0 && major >= 22).toBe(true);
    }
    const finalStage = dockerfileText.slice(dockerfileText.lastIndexOf('\nFROM '));
    expect(finalStage).toMatch(/\nUSER (node|\d{3,})\n/);
    expect(finalStage).toMatch(/\nHEALTHCHECK /);
  });

  test('the image ships the Node major the suite runs on: the one .ci/run pins (scripts/ensure-node.sh), and package.json requires', () => {
    const pinned = read('scripts/ensure-node.sh').match(/^version="(\d+)\.\d+\.\d+"$/m)?.[1];
    expect(pinned).toMatch(/^\d+$/);
    for (const from of dockerfile.getFROMs()) expect(from.getImageTag()?.split('-')[0]).toBe(pinned);
    expect(read('.ci/run')).toContain('PATH="$(bash scripts/ensure-node.sh):$PATH"');
    expect(JSON.parse(read('package.json')).engines.node).toMatch(new RegExp(`^>=${pinned}\\.`));
    // CI runs the suite on it (.ci/run sets CI=true); elsewhere a developer may be on another Node.
    if (process.env.CI) expect(process.versions.node.split('.')[0]).toBe(pinned);
  });

  test('.dockerignore keeps the host\'s node_modules, build output and local state out of the image', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    for (const entry of ['node_modules', 'dist', '.data', '.git', '.env']) expect(ignored).toContain(entry);
  });
});

describe('the image, run natively', () => {
  let build: ImageBuild;
  beforeAll(async () => {
    build = await buildAsTheImageDoes('image');
  }, 240_000);
  afterAll(() => build?.remove());

  test('the build run here is the Dockerfile\'s: npm run build (scripts/build.ts), its one build step', () => {
    expect(dockerfile.getInstructions().filter((i) => i.getKeyword() === 'RUN').map((i) => i.getArgumentsContent())).toContain('npm run build');
    expect(JSON.parse(read('package.json')).scripts.build).toBe('tsx scripts/build.ts');
    expect(read('test/harness/image-build.ts')).toContain("['run', 'build', '--', dir]");
  });

  test('npm run build leaves everything the entry points read beside their code: every asset folder, and the API starts as far as its configuration check', async () => {
    // Every folder of run-time files the build's sources keep is one the build copies.
    const sourceFolders: string[] = JSON.parse(read('tsconfig.build.json').replace(/^\s*\/\/.*$/gm, '')).include;
    const assetFolders = (await run('git', ['ls-files', ...sourceFolders], { cwd: repoRoot })).stdout
      .split('\n')
      .filter((file) => /\/[\w-]*assets\//.test(file))
      .map((file) => file.slice(0, file.search(/assets\//) + 'assets'.length));
    expect([...new Set(assetFolders)].sort()).toEqual([...BUILD_ASSET_DIRS].sort());
    for (const assets of BUILD_ASSET_DIRS) {
      const files = (await run('git', ['ls-files', assets], { cwd: repoRoot })).stdout.trim().split('\n');
      for (const file of files) expect({ file, built: existsSync(path.join(build.dir, file)) }).toEqual({ file, built: true });
    }
    // The hosted signup page's files are read when its module loads: without them the API died with ENOENT before this.
    const api = startEntryPoint(build, 'api/main.js', {});
    expect(await api.exited).toEqual({ code: 1, signal: null });
    expect(api.output()).not.toContain('ENOENT');
    expect(api.output()).toContain('META_ACCESS_TOKEN is required');
  }, 60_000);

  /** The host environment a partner gives `docker compose` (.env): the PostgreSQL password and the secrets' files. */
  const composeHostEnv = (secrets: Record<'token' | 'appSecret' | 'verify' | 'apiKeys', string>, metaAppId?: string) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mm-compose-secrets-'));
    const file = (name: string, text: string) => {
      writeFileSync(path.join(dir, name), text, { mode: 0o600 });
      return path.join(dir, name);
    };
    return {
      POSTGRES_PASSWORD: 'pg-password',
      META_APP_ID: metaAppId,
      META_ACCESS_TOKEN_FILE: file('meta_access_token', secrets.token),
      META_APP_SECRET_FILE: file('meta_app_secret', secrets.appSecret),
      WEBHOOK_VERIFY_TOKEN_FILE: file('webhook_verify_token', secrets.verify),
      API_KEYS_FILE: file('api_keys', secrets.apiKeys),
    };
  };
  /** Only where things are: Temporal's and Graph's addresses, free ports, a task queue of its own. */
  const natively = async (env: Record<string, string>, graphUrl?: string): Promise<Record<string, string>> => ({
    ...env,
    TEMPORAL_ADDRESS: process.env.TEMPORAL_TEST_ADDRESS!,
    TEMPORAL_TASK_QUEUE: `image-${process.pid}`,
    TEMPORAL_DEPLOYMENT_NAME: `image-${process.pid}`,
    ...(env.PORT ? { PORT: String(await freePort()) } : {}),
    ...(env.WORKER_METRICS_PORT ? { WORKER_METRICS_PORT: String(await freePort()) } : {}),
    ...(graphUrl ? { GRAPH_API_BASE_URL: graphUrl } : {}),
  });

  test("with the compose file's environment and empty secrets, the API and a worker refuse to start, naming each missing setting", async () => {
    const project = resolveCompose(composeHostEnv({ token: '', appSecret: '\n', verify: '', apiKeys: '' }));
    const api = startEntryPoint(build, 'api/main.js', await natively(nativeServiceEnv(project, 'api')));
    const worker = startEntryPoint(build, 'worker/main.js', await natively(nativeServiceEnv(project, 'worker')));
    expect(await api.exited).toEqual({ code: 1, signal: null });
    expect(await worker.exited).toEqual({ code: 1, signal: null });
    const missing = (output: string) => [...output.matchAll(/\b([A-Z_]+) is required/g)].map((m) => m[1]);
    expect(missing(api.output())).toEqual(['META_ACCESS_TOKEN', 'META_APP_ID', 'META_APP_SECRET', 'WEBHOOK_VERIFY_TOKEN', 'API_KEYS']);
    expect(missing(worker.output())).toEqual(['META_ACCESS_TOKEN', 'META_APP_ID', 'META_APP_SECRET']);
  }, 60_000);

  test('sandbox mode (MM_SANDBOX=true) without a running sandbox is refused by both entry points', async () => {
    const env = await natively({ MM_SANDBOX: 'true', SANDBOX_PORT: String(await freePort()), HOST: '127.0.0.1', PORT: '3000' });
    const api = startEntryPoint(build, 'api/main.js', env);
    const worker = startEntryPoint(build, 'worker/main.js', env);
    expect(await api.exited).toEqual({ code: 1, signal: null });
    expect(await worker.exited).toEqual({ code: 1, signal: null });
    for (const p of [api, worker]) expect(p.output()).toContain(`MM_SANDBOX=true but no Graph sandbox answers at http://127.0.0.1:${env.SANDBOX_PORT}`);
  }, 60_000);

  test("with the compose file's environment and its secrets as files, the API (on 0.0.0.0, healthy) and a worker that polls start", async () => {
    const cmd = dockerfile.getCMDs()[0];
    expect(JSON.parse(cmd.getArgumentsContent() ?? '')).toEqual(['node', 'dist/api/main.js']);
    // Meta stands in as the sandbox, reached as Meta is: with the partner's own token and app secret.
    const graph = createSandbox({ appId: TEST_SECRETS.appId, appSecret: TEST_SECRETS.appSecret, accessToken: TEST_SECRETS.accessToken });
    const { url: graphUrl } = await graph.listen(0);
    const project = resolveCompose(
      composeHostEnv({ token: `${TEST_SECRETS.accessToken}\n`, appSecret: TEST_SECRETS.appSecret, verify: TEST_SECRETS.verifyToken, apiKeys: TEST_SECRETS.apiKey }, TEST_SECRETS.appId),
    );
    const apiEnv = await natively(nativeServiceEnv(project, 'api'), graphUrl);
    const workerEnv = await natively(nativeServiceEnv(project, 'worker'), graphUrl);
    // As compose sets them: HOST=0.0.0.0, and no secret in the environment itself, only its file.
    expect(apiEnv.HOST).toBe('0.0.0.0');
    for (const env of [apiEnv, workerEnv]) for (const secret of ['META_ACCESS_TOKEN', 'META_APP_SECRET', 'API_KEYS']) expect(env[secret]).toBeUndefined();
    const port = Number(apiEnv.PORT);
    const metricsPort = Number(workerEnv.WORKER_METRICS_PORT);
    const api = startEntryPoint(build, 'api/main.js', apiEnv);
    const worker = startEntryPoint(build, 'worker/main.js', workerEnv);
    try {
      await eventually(async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined), 60_000, `the API; output: ${api.output()}`);
      expect(api.output()).toContain(`"url":"http://0.0.0.0:${port}"`);
      // The partner's key from its secret file works; the sandbox's public key does not.
      const list = (key: string) => fetch(`http://127.0.0.1:${port}/v1/onboardings`, { headers: { authorization: `Bearer ${key}` } });
      expect((await list(TEST_SECRETS.apiKey)).status).toBe(200);
      expect((await list('sandbox-api-key')).status).toBe(401);
      // The image's health check command, as Docker runs it.
      await run(process.execPath, [path.join(build.dir, 'scripts/healthcheck.js'), `http://127.0.0.1:${port}/healthz`]);
      await eventually(
        async () => ((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).ok ? true : undefined),
        90_000,
        `the worker's metrics endpoint; output: ${worker.output()}`,
      );
      // The metrics endpoint can answer a moment before the worker logs that it polls.
      await eventually(async () => (worker.output().includes('worker polling') ? true : undefined), 60_000, `the worker to poll; output: ${worker.output()}`);
      // Quiet start-up: the Graph queue's worker is activities-only by design, not worth a warning.
      expect(worker.output()).not.toContain('No workflows registered');
      const unhealthy = await run(process.execPath, [path.join(build.dir, 'scripts/healthcheck.js'), `http://127.0.0.1:${await freePort()}/healthz`]).catch((e) => e);
      expect(unhealthy.code).toBe(1);
    } finally {
      const [apiExit, workerExit] = await Promise.all([api.stop(), worker.stop()]);
      await graph.close();
      expect(apiExit).toEqual({ code: 0, signal: null });
      expect(workerExit).toEqual({ code: 0, signal: null });
    }
  }, 180_000);
});
