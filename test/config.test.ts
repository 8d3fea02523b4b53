import { ConfigError, loadConfig, SANDBOX_DEFAULTS } from '../config';

const production = {
  META_ACCESS_TOKEN: 'system-user-token',
  META_APP_ID: '123',
  META_APP_SECRET: 'app-secret',
  WEBHOOK_VERIFY_TOKEN: 'verify',
  API_KEYS: 'key-a, key-b',
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  test('with no environment it runs against the built-in sandbox with the contract defaults', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.temporal).toEqual({ address: undefined, namespace: 'default', taskQueue: 'mm-onboarding' });
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
    ['TEMPORAL_DEV_PORT', '7233x', /^TEMPORAL_DEV_PORT must be a port number \(got "7233x"\)$/],
    ['TEMPORAL_UI_PORT', '0', /^TEMPORAL_UI_PORT must be between 1 and 65535/],
  ])('a bad %s (%s) stops start-up with a message naming it', (name, value, message) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  test('the error is one line naming every problem', () => {
    expect(() => loadConfig({ PORT: 'x', GRAPH_MAX_RPS: '-1' })).toThrow(
      /^Invalid configuration: PORT .*; GRAPH_MAX_RPS .*$/,
    );
  });

  test('partner callbacks need both the URL and the secret', () => {
    expect(problemsOf({ PARTNER_CALLBACK_URL: 'https://partner.example/hooks' })).toEqual([
      'PARTNER_CALLBACK_SECRET is required when PARTNER_CALLBACK_URL is set',
    ]);
    const config = loadConfig({ PARTNER_CALLBACK_URL: 'https://partner.example/hooks', PARTNER_CALLBACK_SECRET: 's' });
    expect(config.partnerCallback).toEqual({ url: 'https://partner.example/hooks', secret: 's' });
  });

  test('without TEMPORAL_ADDRESS the embedded dev server listens on 7233 with its Web UI on 8233', () => {
    expect(loadConfig({}).devServer).toEqual({ port: 7233, uiPort: 8233, dbFile: '.data/temporal.sqlite' });
    expect(loadConfig({ TEMPORAL_DEV_PORT: '17233', TEMPORAL_UI_PORT: '18233' }).devServer).toMatchObject({
      port: 17233,
      uiPort: 18233,
    });
  });

  test('with TEMPORAL_ADDRESS no dev server runs, whatever its ports say', () => {
    expect(loadConfig({ TEMPORAL_ADDRESS: '127.0.0.1:7233', TEMPORAL_DEV_PORT: '3000' }).devServer).toBeUndefined();
  });

  test('two of its own listeners on one port are refused, naming both variables', () => {
    expect(problemsOf({ TEMPORAL_UI_PORT: '3000' })).toEqual(['PORT and TEMPORAL_UI_PORT are both 3000; each needs a port of its own']);
  });

  test('an explicit Graph base URL wins over the sandbox and loses its trailing slash', () => {
    expect(loadConfig({ GRAPH_API_BASE_URL: 'http://127.0.0.1:9999/' }).graph.baseUrl).toBe('http://127.0.0.1:9999');
  });
});
