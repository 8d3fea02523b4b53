import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeConfig, loadConfig, SANDBOX_DEFAULTS } from '../../config';
import { problemsOf } from '../harness/config-problems';

/** Sandbox mode, as `npm start` turns it on without META_ACCESS_TOKEN. */
const demo = { MM_SANDBOX: 'true' };

const production = {
  META_ACCESS_TOKEN: 'system-user-token',
  META_APP_ID: '123',
  META_APP_SECRET: 'app-secret',
  WEBHOOK_VERIFY_TOKEN: 'verify',
  API_KEYS: 'key-a, key-b',
};


describe('configuration', () => {
  test('in sandbox mode (MM_SANDBOX=true) it runs against the built-in sandbox with the contract defaults', () => {
    const config = loadConfig(demo);
    expect(config.port).toBe(3000);
    expect(config.temporal).toEqual({
      address: undefined,
      namespace: 'default',
      taskQueue: 'mm-onboarding',
      connection: {},
      deployment: { name: 'mm-onboarding', setCurrentOnStart: false, releaseRatePerSecond: 20, releaseWatchSeconds: 30 },
    });
    expect(config.host).toBe('127.0.0.1');
    expect(config.codec).toEqual({ keys: [], corsOrigins: [] });
    expect(config.graph).toEqual({
      baseUrl: `http://127.0.0.1:${SANDBOX_DEFAULTS.port}`,
      version: 'v24.0',
      accessToken: SANDBOX_DEFAULTS.accessToken,
      maxRps: 10,
    });
    expect(config.sandbox).toEqual({ port: SANDBOX_DEFAULTS.port });
    expect(config.apiKeys).toEqual([SANDBOX_DEFAULTS.apiKey]);
    expect(config.partnerCallback).toBeUndefined();
  });

  test('with a Meta token it talks to graph.facebook.com and needs the partner app settings', () => {
    const config = loadConfig(production);
    expect(config.sandbox).toBeUndefined();
    expect(config.graph.baseUrl).toBe('https://graph.facebook.com');
    expect(config.apiKeys).toEqual(['key-a', 'key-b']);
    expect(config.meta).toEqual({ appId: '123', appSecret: 'app-secret' });
  });

  test('a missing production setting is named', () => {
    const problems = problemsOf({ ...production, API_KEYS: '', META_APP_SECRET: '' });
    expect(problems).toEqual([
      expect.stringMatching(/^META_APP_SECRET is required/),
      expect.stringMatching(/^API_KEYS is required/),
    ]);
  });

  test.each([
    ['PORT', 'abc', /^PORT must be a port number \(got "abc"\)$/],
    ['PORT', '70000', /^PORT must be between 1 and 65535/],
    ['GRAPH_MAX_RPS', '0', /^GRAPH_MAX_RPS must be greater than 0/],
    ['GRAPH_API_BASE_URL', 'not a url', /^GRAPH_API_BASE_URL must be an http\(s\) URL/],
    ['GRAPH_API_VERSION', '24', /^GRAPH_API_VERSION must look like v24.0/],
    ['TEMPORAL_ADDRESS', 'http://x', /^TEMPORAL_ADDRESS must be host:port/],
    ['HOST', 'everywhere', /^HOST must be an IP address to listen on/],
    ['CODEC_CORS_ORIGINS', 'not-a-url', /^CODEC_CORS_ORIGINS must be an http\(s\) URL/],
    ['TEMPORAL_DEV_PORT', '7233x', /^TEMPORAL_DEV_PORT must be a port number \(got "7233x"\)$/],
    ['TEMPORAL_UI_PORT', '0', /^TEMPORAL_UI_PORT must be between 1 and 65535/],
  ])('a bad %s (%s) stops start-up with a message naming it', (name, value, message) => {
    const problems = problemsOf({ ...demo, [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  test('the error is one line naming every problem', () => {
    expect(() => loadConfig({ ...demo, PORT: 'x', GRAPH_MAX_RPS: '-1' })).toThrow(
      /^Invalid configuration: PORT .*; GRAPH_MAX_RPS .*$/,
    );
  });

  test('partner callbacks need both the URL and the secret', () => {
    expect(problemsOf({ ...demo, PARTNER_CALLBACK_URL: 'https://partner.example/hooks' })).toEqual([
      'PARTNER_CALLBACK_SECRET is required when PARTNER_CALLBACK_URL is set',
    ]);
    const config = loadConfig({ ...demo, PARTNER_CALLBACK_URL: 'https://partner.example/hooks', PARTNER_CALLBACK_SECRET: 's' });
    expect(config.partnerCallback).toEqual({ url: 'https://partner.example/hooks', secret: 's' });
  });

  test('without TEMPORAL_ADDRESS the embedded dev server listens on 7233 with its Web UI on 8233', () => {
    expect(loadConfig(demo).devServer).toEqual({ port: 7233, uiPort: 8233, dbFile: '.data/temporal.sqlite' });
    expect(loadConfig({ ...demo, TEMPORAL_DEV_PORT: '17233', TEMPORAL_UI_PORT: '18233' }).devServer).toMatchObject({
      port: 17233,
      uiPort: 18233,
    });
  });

  test('with TEMPORAL_ADDRESS no dev server runs, whatever its ports say', () => {
    expect(loadConfig({ ...demo, TEMPORAL_ADDRESS: '127.0.0.1:7233', TEMPORAL_DEV_PORT: '3000' }).devServer).toBeUndefined();
  });

  test('two of its own listeners on one port are refused, naming both variables', () => {
    expect(problemsOf({ ...demo, TEMPORAL_UI_PORT: '3000' })).toEqual(['PORT and TEMPORAL_UI_PORT are both 3000; each needs a port of its own']);
  });

  test('an explicit Graph base URL wins over the sandbox and loses its trailing slash', () => {
    expect(loadConfig({ ...demo, GRAPH_API_BASE_URL: 'http://127.0.0.1:9999/' }).graph.baseUrl).toBe('http://127.0.0.1:9999');
  });

  test('Embedded Signup: Meta\'s SDK and popup origins in production, the sandbox\'s stand-in in sandbox mode', () => {
    const prod = loadConfig(production);
    expect(prod.publicBaseUrl).toBe('http://127.0.0.1:3000');
    expect(prod.embeddedSignup).toEqual({
      configId: undefined,
      featureType: 'whatsapp_business_app_onboarding',
      sdkUrl: 'https://connect.facebook.net/en_US/sdk.js',
      messageOrigins: ['https://www.facebook.com', 'https://web.facebook.com'],
    });
    const sandbox = loadConfig({ ...demo, SANDBOX_PORT: '3999' });
    expect(sandbox.embeddedSignup).toMatchObject({ configId: SANDBOX_DEFAULTS.esConfigId, sdkUrl: 'http://127.0.0.1:3999/sdk.js', messageOrigins: ['http://127.0.0.1:3999'] });

    const set = loadConfig({ ...production, PUBLIC_BASE_URL: 'https://onboard.example.com/', META_ES_CONFIG_ID: '987', META_ES_FEATURE_TYPE: '' });
    expect(set.publicBaseUrl).toBe('https://onboard.example.com');
    expect(set.embeddedSignup.configId).toBe('987');
    expect(set.embeddedSignup.featureType).toBeUndefined();
    expect(problemsOf({ ...production, PUBLIC_BASE_URL: 'onboard.example.com', META_SDK_URL: 'ftp://x' })).toEqual([
      expect.stringMatching(/^PUBLIC_BASE_URL must be an http\(s\) URL/),
      expect.stringMatching(/^META_SDK_URL must be an http\(s\) URL/),
    ]);
  });

  test('HOST chooses the listening address (0.0.0.0 in containers), loopback by default', () => {
    expect(loadConfig({ ...demo, HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(loadConfig({ ...demo, HOST: '::' }).host).toBe('::');
  });

  test("WORKER_MAX_CACHED_WORKFLOWS sizes the worker's cache; unset leaves the SDK's default", () => {
    expect(loadConfig(demo).workerMaxCachedWorkflows).toBeUndefined();
    expect(loadConfig({ ...demo, WORKER_MAX_CACHED_WORKFLOWS: '12000' }).workerMaxCachedWorkflows).toBe(12_000);
    expect(() => loadConfig({ ...demo, WORKER_MAX_CACHED_WORKFLOWS: '1' })).toThrow(/WORKER_MAX_CACHED_WORKFLOWS must be at least 2/);
  });

  test('the Worker Deployment: TEMPORAL_DEPLOYMENT_NAME, TEMPORAL_WORKER_BUILD_ID, TEMPORAL_WORKER_SET_CURRENT', () => {
    const config = loadConfig({ ...demo, TEMPORAL_DEPLOYMENT_NAME: 'mm-eu', TEMPORAL_WORKER_BUILD_ID: '1.0.0-rc1', TEMPORAL_WORKER_SET_CURRENT: 'true' });
    expect(config.temporal.deployment).toEqual({ name: 'mm-eu', buildId: '1.0.0-rc1', setCurrentOnStart: true, releaseRatePerSecond: 20, releaseWatchSeconds: 30 });
    expect(problemsOf({ ...demo, TEMPORAL_DEPLOYMENT_NAME: 'mm.eu' })).toEqual([expect.stringContaining("TEMPORAL_DEPLOYMENT_NAME must not contain '.' or ':'")]);
    expect(problemsOf({ ...demo, TEMPORAL_WORKER_BUILD_ID: '__x' })).toEqual([expect.stringContaining("TEMPORAL_WORKER_BUILD_ID must not start with '__'")]);
    expect(problemsOf({ ...demo, TEMPORAL_WORKER_SET_CURRENT: 'yes' })).toEqual([expect.stringContaining('TEMPORAL_WORKER_SET_CURRENT must be true or false')]);
    expect(loadConfig({ ...demo, TEMPORAL_RELEASE_RATE: '5', TEMPORAL_RELEASE_WATCH_SECONDS: '10' }).temporal.deployment).toMatchObject({ releaseRatePerSecond: 5, releaseWatchSeconds: 10 });
    expect(problemsOf({ ...demo, TEMPORAL_RELEASE_RATE: '0' })).toEqual([expect.stringContaining('TEMPORAL_RELEASE_RATE must be greater than 0')]);
  });

  test('DISCOVERY_MAX_TASK_BACKLOG paces discoveries; default 200', () => {
    expect(loadConfig(demo).discoveryMaxTaskBacklog).toBe(200);
    expect(loadConfig({ ...demo, DISCOVERY_MAX_TASK_BACKLOG: '50' }).discoveryMaxTaskBacklog).toBe(50);
    expect(() => loadConfig({ ...demo, DISCOVERY_MAX_TASK_BACKLOG: '0' })).toThrow(/DISCOVERY_MAX_TASK_BACKLOG must be at least 1/);
  });

  test('CODEC_KEYS are separate from the partner API keys', () => {
    expect(loadConfig({ ...demo, CODEC_KEYS: 'ops-1, ops-2' }).codec.keys).toEqual(['ops-1', 'ops-2']);
    expect(problemsOf({ ...production, CODEC_KEYS: 'key-a' })).toEqual([
      'CODEC_KEYS must differ from API_KEYS: partners must never read sealed secrets',
    ]);
  });

  test('METRICS_BEARER_TOKEN is optional, long enough, sendable as a bearer key, and nobody else\'s key', () => {
    expect(loadConfig(demo).metricsBearerToken).toBeUndefined();
    expect(describeConfig(loadConfig(demo)).metrics).toBe('open');
    const config = loadConfig({ ...demo, METRICS_BEARER_TOKEN: 'scraper-key-0123456789' });
    expect(config.metricsBearerToken).toBe('scraper-key-0123456789');
    expect(JSON.stringify(describeConfig(config))).not.toContain('scraper-key-0123456789');
    expect(problemsOf({ ...demo, METRICS_BEARER_TOKEN: 'short' })).toEqual([expect.stringMatching(/^METRICS_BEARER_TOKEN must be at least 16 characters/)]);
    expect(problemsOf({ ...demo, METRICS_BEARER_TOKEN: 'has a space in it 0123' })).toEqual([expect.stringMatching(/^METRICS_BEARER_TOKEN must be printable ASCII/)]);
    expect(problemsOf({ ...production, API_KEYS: 'partner-key-0123456789', METRICS_BEARER_TOKEN: 'partner-key-0123456789' })).toEqual([
      'METRICS_BEARER_TOKEN must differ from API_KEYS and CODEC_KEYS: a scraper needs no other access',
    ]);
  });
});

describe('Temporal connection settings (Temporal environment configuration)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mm-envconfig-'));
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  test('TEMPORAL_API_KEY turns TLS on and is never described', () => {
    const config = loadConfig({ ...demo, TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'ns.acct', TEMPORAL_API_KEY: 'secret-key' });
    expect(config.temporal).toMatchObject({ address: 'ns.acct.tmprl.cloud:7233', namespace: 'ns.acct' });
    expect(config.temporal.connection).toEqual({ apiKey: 'secret-key', tls: true });
    const described = JSON.stringify(describeConfig(config));
    expect(described).toContain('"auth":"API key + TLS"');
    expect(described).not.toContain('secret-key');
  });

  test("empty TEMPORAL_API_KEY (an empty secret file) and TEMPORAL_TLS_* (compose's unset `${VAR:-}`) are unset: plaintext", () => {
    const config = loadConfig({
      ...demo,
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_API_KEY_FILE: file('empty-key', ''),
      TEMPORAL_TLS: '',
      TEMPORAL_TLS_SERVER_NAME: '',
      TEMPORAL_TLS_CLIENT_CERT_PATH: '',
      TEMPORAL_TLS_CLIENT_KEY_PATH: '',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: '',
    });
    expect(config.temporal.connection.apiKey).toBeUndefined();
    expect(config.temporal.connection.tls).toBeFalsy();
    expect(JSON.stringify(describeConfig(config))).toContain('"auth":"plaintext"');
    // And an API key given beside compose's empty TEMPORAL_TLS still turns TLS on.
    const cloud = loadConfig({ ...demo, TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY_FILE: file('key', 'cloud-key\n'), TEMPORAL_TLS: '' });
    expect(cloud.temporal.connection).toEqual({ apiKey: 'cloud-key', tls: true });
  });

  test('TEMPORAL_TLS_* files give mutual TLS: client certificate, key and the server CA', () => {
    const config = loadConfig({
      ...demo,
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_TLS_CLIENT_CERT_PATH: file('client.pem', 'CLIENT CERT'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: file('client.key', 'CLIENT KEY'),
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.pem', 'CA CERT'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    const tls = config.temporal.connection.tls as { clientCertPair: { crt: Buffer; key: Buffer }; serverRootCACertificate: Buffer; serverNameOverride: string };
    expect(tls.clientCertPair.crt.toString()).toBe('CLIENT CERT');
    expect(tls.clientCertPair.key.toString()).toBe('CLIENT KEY');
    expect(tls.serverRootCACertificate.toString()).toBe('CA CERT');
    expect(tls.serverNameOverride).toBe('temporal.internal');
    expect(describeConfig(config).temporal).toMatchObject({ auth: 'mTLS' });
  });

  test('a profile of the config file supplies address, namespace and key; the environment overrides it', () => {
    const toml = file(
      'temporal.toml',
      '[profile.cloud]\naddress = "ns.acct.tmprl.cloud:7233"\nnamespace = "ns.acct"\napi_key = "from-file"\n',
    );
    const fromProfile = loadConfig({ ...demo, TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'cloud' });
    expect(fromProfile.temporal).toMatchObject({ address: 'ns.acct.tmprl.cloud:7233', namespace: 'ns.acct', connection: { apiKey: 'from-file', tls: true } });
    const overridden = loadConfig({ ...demo, TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'cloud', TEMPORAL_NAMESPACE: 'other' });
    expect(overridden.temporal.namespace).toBe('other');
  });

  test('an unknown profile stops start-up naming it', () => {
    const toml = file('empty.toml', '[profile.default]\naddress = "127.0.0.1:7233"\n');
    expect(problemsOf({ ...demo, TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'nope' })).toEqual([
      expect.stringMatching(/Profile 'nope' not found/),
    ]);
  });
});
