/**
 * file-type, the tus server (@tus/server, @tus/file-store, @tus/utils), srvx (the Request/Response
 * layer @tus/server runs on) and the packages they use are ESM-only. Node loads them natively (require(esm), Node >= 20.19),
 * but jest's CommonJS runtime cannot, so for tests only they are transformed to CommonJS with babel.
 */
const ESM_ONLY_PACKAGES = ['file-type', 'strtok3', 'token-types', '@tokenizer', 'uint8array-extras', '@borewit', '@tus', 'srvx'];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    // srvx ships .mjs files.
    '^.+\\.m?js$': [
      'babel-jest',
      { babelrc: false, configFile: false, plugins: ['@babel/plugin-transform-export-namespace-from', '@babel/plugin-transform-modules-commonjs'] },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY_PACKAGES.join('|')})/)`],
  // file-type's export map names its Node entry only under import/module-sync conditions.
  moduleNameMapper: { '^file-type$': '<rootDir>/node_modules/file-type/index.js' },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  testTimeout: 30000,
};
