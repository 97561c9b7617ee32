import type { Command } from 'commander';
import { loadConfig, parsePort } from '../config.js';
import { buildServer } from '../http/server.js';
import { loadJobsConfig, startJobs } from '../jobs/index.js';
import { openApp } from '../services/app.js';
import { startDemo } from './demo.js';

/** `entrasync serve`: the console and the JSON API. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('start the console and the JSON API')
    .option('--port <port>', 'port to listen on (default: PORT or 3000)')
    .option('--host <host>', 'address to listen on (default: HOST or 127.0.0.1)')
    .option('--demo', 'also start an emulated Entra tenant and a demo organization connected to it')
    .option('--no-demo', 'start without the demo (also: ENTRASYNC_DEMO=0)')
    .action(async (opts: { port?: string; host?: string; demo?: boolean }) => {
      const config = loadConfig();
      const port = opts.port === undefined ? config.port : parsePort(opts.port, 'port');
      const host = opts.host ?? config.host;
      const app = await openApp(config);
      const server = await buildServer(app, { logger: { level: process.env.LOG_LEVEL ?? 'info' } });
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
