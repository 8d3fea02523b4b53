/** `npm run test:observability`: a real Prometheus scraping a running stack (see test/observability/). */
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/observability/**/*.test.ts'],
  // The test starts a Temporal dev server of its own (it stops it to stage a fault).
  globalSetup: undefined,
  globalTeardown: undefined,
  testPathIgnorePatterns: ['/node_modules/'],
  maxWorkers: 1,
};
