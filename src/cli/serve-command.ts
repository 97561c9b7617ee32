import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { Command } from 'commander';
import { type Config, loadConfig } from '../config.js';
import { invalid } from '../directory/errors.js';
import { buildServer } from '../http/server.js';
import { loadJobsConfig, startJobs } from '../jobs/index.js';
import { openApp } from '../services/app.js';
import { startDemo } from './demo.js';
import { PORT_RANGE, wholeNumberOption } from './input.js';

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
      const server = await buildServer(app, {
        logger: { level: process.env.LOG_LEVEL ?? 'info' },
        trustProxy: config.trustProxy,
        https,
      });
      const address = await server.listen({ port, host });
      const jobsConfig = loadJobsConfig();
      const { scheduler, worker } = jobsConfig.serveRoles;
      const jobs =
        scheduler || worker ? await startJobs(app, { scheduler, worker }, { config: jobsConfig }) : null;
      const first = await app.auth.bootstrapOperator();
      const lines = [`entrasync is listening on ${address} (database: ${app.store.dialect.name})`];
      const demo = opts.demo && process.env.ENTRASYNC_DEMO !== '0' ? await startDemo(app) : null;
      if (first) {
        lines.push(
          '',
          'First start: an operator account was created. Sign in with',
          `  address:  ${first.email}`,
          `  password: ${first.password}`,
          'This password is shown only now. Change it with `entrasync operator set-password`.',
        );
      }
      if (demo) lines.push(...demo.lines);
      process.stdout.write(`${lines.join('\n')}\n`);
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
