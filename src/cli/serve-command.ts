import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { Command } from 'commander';
import { type Config, loadConfig } from '../config.js';
import { invalid } from '../directory/errors.js';
import { buildServer } from '../http/server.js';
import { startJobs } from '../jobs/index.js';
import { createLogger, jobsLogger } from '../jobs/logger.js';
import { type App, openApp } from '../services/app.js';
import { startDemo } from './demo.js';
import { PORT_RANGE, wholeNumberOption } from './input.js';
import { operatorReset, printSignIn, userReset } from './sign-in.js';

/** `entrasync serve`: the console and the JSON API. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('start the console and the JSON API')
    .addOption(wholeNumberOption('--port <port>', 'port to listen on (default: PORT or 3000)', PORT_RANGE))
    .option('--host <host>', 'address to listen on (default: HOST or 127.0.0.1)')
    .option('--demo', 'also start an emulated Entra tenant and a demo organization connected to it')
    .option('--no-demo', 'start without the demo (also: ENTRASYNC_DEMO=0)')
    .action(async (opts: { port?: number; host?: string; demo?: boolean }) => {
      const config = loadConfig();
      const port = opts.port ?? config.port;
      const host = opts.host ?? config.host;
      // Read before anything starts, so a bad certificate stops `serve` (exit 2) rather than half of it.
      const https = config.tls ? readTls(config.tls) : undefined;
      const app = await openApp(config);
      const format = config.logFormat;
      const logger = createLogger({ format, level: config.logLevel });
      const server = await buildServer(app, {
        loggerInstance: logger,
        trustProxy: config.trustProxy,
        https,
      });
      const address = await server.listen({ port, host });
      const jobsConfig = config.jobs;
      const { scheduler, worker } = jobsConfig.serveRoles;
      const jobs =
        scheduler || worker
          ? await startJobs(
              app,
              { scheduler, worker },
              { config: jobsConfig, logger: jobsLogger({ format, level: config.logLevel }) },
            )
          : null;
      const first = await app.auth.bootstrapOperator();
      const demo = opts.demo && config.demo ? await startDemo(app) : null;
      const operators = first
        ? [{ email: first.email, password: first.password }]
        : await knownOperators(app);
      // Last, after every start-up log line: the one thing a newcomer must not miss.
      printSignIn(
        {
          url: address,
          database: app.store.dialect.name,
          operators: operators.map((o) => ({ kind: 'operator', ...o, reset: operatorReset(o.email) })),
          demo: demo
            ? {
                org: demo.org,
                admin: {
                  kind: 'org_admin',
                  ...demo.admin,
                  reset: userReset(demo.org.domains[0] ?? demo.org.name, demo.admin.email),
                },
              }
            : null,
        },
        format,
        logger,
      );
      const stop = async () => {
        await server.close();
        await jobs?.stop();
        await demo?.emulator.close();
        await app.close();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

/** A few operators' addresses, for the reset hint of a later start (their passwords are not known). */
async function knownOperators(app: App): Promise<{ email: string; password: undefined }[]> {
  const emails = await app.auth.operatorEmails(3);
  return emails.map((email) => ({ email, password: undefined }));
}

/** The PEM certificate and key, checked to form a usable pair; each failure names its variable. */
function readTls(tls: NonNullable<Config['tls']>): { cert: Buffer; key: Buffer } {
  const read = (file: string, field: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw invalid(field, `${field} names ${file}, which cannot be read (${reason}).`);
    }
  };
  const cert = read(tls.certFile, 'TLS_CERT_FILE');
  const key = read(tls.keyFile, 'TLS_KEY_FILE');
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    // OpenSSL's reason (e.g. "key values mismatch") names no secret material.
    throw invalid(
      'TLS_CERT_FILE',
      `TLS_CERT_FILE and TLS_KEY_FILE are not a usable PEM certificate and key (${(error as Error).message}).`,
    );
  }
  return { cert, key };
}
