/** `npm run test:production`: the service on a real Temporal cluster (see test/production/). */
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/production/**/*.test.ts'],
  // The cluster is started by the test file itself; the suite's dev server is not needed.
  globalSetup: undefined,
  globalTeardown: undefined,
  testPathIgnorePatterns: ['/node_modules/'],
  maxWorkers: 1,
};
