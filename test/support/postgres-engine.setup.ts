// The jest project "postgres" (jest.config.js): every test app of its suites on a fresh PostgreSQL database.
process.env.SECRETS_TEST_ENGINE = 'postgres';
