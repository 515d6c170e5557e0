/** Jest runs TypeScript through SWC (fast, no type-check: `npm run typecheck` does that). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/server/src', '<rootDir>/seed/src', '<rootDir>/bots', '<rootDir>/web/e2e'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j)sx?$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' }, module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@electric-sql|jose)/)'],
  testTimeout: 60000,
  // What a test file leaves behind (servers' caches, PGlite, compiled modules) is freed with the worker: see
  // scripts/run-tests.mjs.
  workerIdleMemoryLimit: '1536MB',
};
