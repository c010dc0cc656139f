/**
 * `npm run test:chaos`: the long reliability tests (workers killed, PostgreSQL and Temporal restarted), kept
 * out of `npm test`. Each file starts its own PostgreSQL and Temporal dev server (test/chaos/stack.ts), since
 * it kills them; nothing here uses the shared ones of the global setup.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/chaos'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' }, module: { type: 'commonjs' } }] },
  setupFiles: ['<rootDir>/test/support/quiet-temporal.ts'],
  testTimeout: 300000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
