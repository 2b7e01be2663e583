/**
 * Two projects, both in `npm test` (`jest --runInBand`):
 * - "sqlite": every test, the apps of the e2e suites on a SQLite file in their data dir;
 * - "postgres": the e2e suites that are engine-neutral, again, each app on a fresh PostgreSQL
 *   database of its own (test/support/test-app.ts reads SECRETS_TEST_ENGINE, set by the setup file).
 * The storage contract runs on both engines inside the sqlite project, so it is not listed here.
 * Suites left out of "postgres" test what only SQLite has: its file and page limits (crash,
 * storage-faults, metrics, unexpected-errors), the CLI and `serve` on a data dir or `--db` file
 * (audit-cli, audit-verify, audit-export-memory, cli, cli-data-dir, cli-startup, key-rotation, master-keys-start,
 * online-rotation, http-fuzz, slow-clients, serve-process, readme-quick-start, sdk-package, checkpoint-sink-crash,
 * python-client, python-install), the event store opened on a file (event-time,
 * access-denied-bound), better-sqlite3's synchronous reads (audit-fairness: pg's are
 * asynchronous, and the contract suite shows the paging rule on both engines); openapi-lint and
 * connection-share store nothing; postgres-instances, postgres-faults and master-keys-instances
 * are PostgreSQL's own; audit-sources and audit-export-sources-memory set up PostgreSQL and a
 * SQLite file themselves; change-stream-backpressure needs megabytes of changes, which PostgreSQL
 * appends a round trip each (the bound it tests is the HTTP layer's; change-stream reads the log
 * on both engines).
 */
/**
 * SECRETS_LONG_TESTS=1 (README) adds what the default run leaves out to stay within CI's time:
 * the admin CLI's and the console's browser suites on PostgreSQL as well (both are clients of
 * the HTTP API, whose suites run on both engines; their child processes and browser make them
 * the longest suites there).
 */
const LONG_TESTS = process.env.SECRETS_LONG_TESTS === '1';

const POSTGRES_SUITES = [
  'test/e2e/postgres-engine.e2e-spec.ts',
  'test/e2e/secrets-api.e2e-spec.ts',
  'test/e2e/tokens-api.e2e-spec.ts',
  'test/e2e/resolve.e2e-spec.ts',
  'test/e2e/roles-by-route.e2e-spec.ts',
  'test/e2e/rate-limits.e2e-spec.ts',
  'test/e2e/audit-api.e2e-spec.ts',
  'test/e2e/value-integrity.e2e-spec.ts',
  'test/e2e/state-tampering.e2e-spec.ts',
  'test/e2e/whoami.e2e-spec.ts',
  'test/e2e/sdk.e2e-spec.ts',
  'test/e2e/nats-notifications.e2e-spec.ts',
  ...(LONG_TESTS ? ['test/e2e/admin-cli.e2e-spec.ts'] : []),
  'test/e2e/http-edge.e2e-spec.ts',
  'test/e2e/http-spellings.e2e-spec.ts',
  'test/e2e/nats-bus-secrecy.e2e-spec.ts',
  'test/e2e/nats-outage.e2e-spec.ts',
  'test/e2e/nats-auth-tls.e2e-spec.ts',
  'test/e2e/example-plugin.e2e-spec.ts',
  'test/e2e/https.e2e-spec.ts',
  'test/e2e/cli-run.e2e-spec.ts',
  'test/e2e/secret-versions.e2e-spec.ts',
  'test/e2e/audit-checkpoints.e2e-spec.ts',
  'test/e2e/checkpoint-sink-https.e2e-spec.ts',
  'test/e2e/secret-consumers.e2e-spec.ts',
  'test/e2e/secret-expiry.e2e-spec.ts',
  'test/e2e/change-stream.e2e-spec.ts',
  'test/e2e/sdk-change-stream.e2e-spec.ts',
  'test/e2e/sdk-delta-resolve.e2e-spec.ts',
  'test/e2e/change-stream-values.e2e-spec.ts',
  'test/e2e/sdk-values-stream.e2e-spec.ts',
  ...(LONG_TESTS ? ['test/browser/console.browser-spec.ts'] : []),
];

const shared = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/src'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    // content-disposition 3 (under @fastify/static 10, which serves /docs) ships only ESM, and
    // Jest cannot require() ESM on Node 20: compile that one package to CommonJS for tests.
    '/node_modules/content-disposition/.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!content-disposition/)'],
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 30000,
  projects: [
    {
      ...shared,
      displayName: 'sqlite',
      testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts', '**/*.browser-spec.ts'],
      // It asserts that it runs on PostgreSQL: the check that the postgres project's setup works.
      testPathIgnorePatterns: ['/node_modules/', '/test/e2e/postgres-engine\\.e2e-spec\\.ts$'],
    },
    {
      ...shared,
      displayName: 'postgres',
      testMatch: POSTGRES_SUITES.map((path) => `<rootDir>/${path}`),
      setupFiles: ['<rootDir>/test/support/postgres-engine.setup.ts'],
    },
  ],
};
