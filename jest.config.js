/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // `npm run test:production` runs these on a real cluster.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/production/'],
  globalSetup: '<rootDir>/test/harness/global-setup.ts',
  globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
  testTimeout: 60_000,
  // Two cores: one file per core keeps worker bundling and the dev server from starving each other.
  maxWorkers: 2,
};
