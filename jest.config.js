/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Need Chromium, a real cluster, Jaeger or a real Prometheus: `npm run test:browser` (jest.browser.config.js),
  // `npm run test:production` (jest.production.config.js), `npm run test:traces` (jest.traces.config.js),
  // `npm run test:observability` (jest.observability.config.js).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/browser/', '<rootDir>/test/production/', '<rootDir>/test/traces/', '<rootDir>/test/observability/'],
  globalSetup: '<rootDir>/test/harness/global-setup.ts',
  globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
  // The workers' logs without the activity failures the tests provoke (MM_TEST_LOGS=all for all).
  setupFiles: ['<rootDir>/test/harness/setup-quiet-runtime.ts'],
  testTimeout: 60_000,
  // Two cores: one file per core keeps worker bundling and the dev server from starving each other.
  maxWorkers: 2,
};
