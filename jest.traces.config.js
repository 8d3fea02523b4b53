/** `npm run test:traces`: the service's OpenTelemetry traces, read back from a real Jaeger (see test/traces/). */
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/traces/**/*.test.ts'],
  // `npm start` runs its own dev server; the suite's is not needed.
  globalSetup: undefined,
  globalTeardown: undefined,
  testPathIgnorePatterns: ['/node_modules/'],
  maxWorkers: 1,
};
