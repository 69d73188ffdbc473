/**
 * `npm run test:unit`: the in-process tests (test/unit) alone, with no system program needed (no
 * redis-server, chromium or kubectl), in seconds. `npm test` runs them with everything else.
 */
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = { ...base, roots: ['<rootDir>/test/unit'], globalSetup: undefined };
