/**
 * Sandbox mode only where it is asked for: outside it every setting a process needs must be given,
 * and the sandbox's public credentials are refused.
 */
import { loadConfig, SANDBOX_DEFAULTS, withDemoSandbox } from '../../config';
import { problemsOf } from '../harness/config-problems';

const production = {
  META_ACCESS_TOKEN: 'system-user-token',
  META_APP_ID: '123',
  META_APP_SECRET: 'app-secret',
  WEBHOOK_VERIFY_TOKEN: 'verify',
  API_KEYS: 'key-a, key-b',
};


const named = (problems: string[]) => problems.map((p) => p.split(' ')[0]);

test('with nothing set and no MM_SANDBOX the API refuses, naming each of its five settings', () => {
  expect(named(problemsOf({}, 'api'))).toEqual(['META_ACCESS_TOKEN', 'META_APP_ID', 'META_APP_SECRET', 'WEBHOOK_VERIFY_TOKEN', 'API_KEYS']);
  // Empty counts as unset: what `${META_ACCESS_TOKEN:-}` in a compose file gives.
  const empty = Object.fromEntries(Object.keys(production).map((k) => [k, '']));
  expect(named(problemsOf(empty, 'api'))).toEqual(Object.keys(production));
});

test('a worker needs the Meta settings only', () => {
  expect(named(problemsOf({}, 'worker'))).toEqual(['META_ACCESS_TOKEN', 'META_APP_ID', 'META_APP_SECRET']);
  const { WEBHOOK_VERIFY_TOKEN: _v, API_KEYS: _k, ...meta } = production;
  expect(loadConfig(meta, { role: 'worker' }).sandbox).toBeUndefined();
});

test("the sandbox's public credentials are never accepted outside sandbox mode", () => {
  expect(problemsOf({ ...production, API_KEYS: `key-a, ${SANDBOX_DEFAULTS.apiKey}` })).toEqual([
    "API_KEYS holds the sandbox's public value, which is never accepted outside sandbox mode",
  ]);
  expect(problemsOf({ ...production, META_APP_SECRET: SANDBOX_DEFAULTS.appSecret, WEBHOOK_VERIFY_TOKEN: SANDBOX_DEFAULTS.webhookVerifyToken })).toEqual([
    "META_APP_SECRET holds the sandbox's public value, which is never accepted outside sandbox mode",
    "WEBHOOK_VERIFY_TOKEN holds the sandbox's public value, which is never accepted outside sandbox mode",
  ]);
  expect(problemsOf({ ...production, META_ACCESS_TOKEN: SANDBOX_DEFAULTS.accessToken })).toEqual([
    "META_ACCESS_TOKEN holds the sandbox's public value, which is never accepted outside sandbox mode",
  ]);
});

test('sandbox mode is asked for with MM_SANDBOX=true, and never together with a real token', () => {
  const sandbox = loadConfig({ MM_SANDBOX: 'true' });
  expect(sandbox.sandbox).toEqual({ port: SANDBOX_DEFAULTS.port });
  expect(sandbox.apiKeys).toEqual([SANDBOX_DEFAULTS.apiKey]);
  expect(problemsOf({ ...production, MM_SANDBOX: 'true' })).toEqual([expect.stringMatching(/^MM_SANDBOX=true and META_ACCESS_TOKEN are both set/)]);
  expect(problemsOf({ MM_SANDBOX: 'maybe' })).toEqual([expect.stringMatching(/^MM_SANDBOX must be true or false/)]);
});

test('only `npm start` turns sandbox mode on by itself, and only without a Meta token', () => {
  expect(loadConfig(withDemoSandbox({})).sandbox).toBeDefined();
  expect(loadConfig(withDemoSandbox(production)).sandbox).toBeUndefined();
  expect(named(problemsOf(withDemoSandbox({ MM_SANDBOX: 'false' })))).toEqual(Object.keys(production));
});
