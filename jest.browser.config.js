/** The browser test (`npm run test:browser`): the same harness, Debian's Chromium driven by playwright-core. */
const base = require('./jest.config');
/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/browser/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 120_000,
};
