import { Command } from 'commander';
import {
  readSecret,
  registerGroupCommands,
  registerOrgCommands,
  registerUserCommands,
} from './directory-commands.js';
import { registerEmulatorCommand } from './emulator-command.js';
import { refuseControlCharacters } from './input.js';
import { appCommand } from './run.js';
import { registerServeCommand } from './serve-command.js';
import { registerEntraCommands, registerSyncCommand } from './sync-commands.js';
import { registerTokenCommands } from './token-commands.js';
import { registerJobCommands } from './worker-command.js';

/** Builds the `entrasync` command line. */
export function buildProgram(): Command {
  const program = new Command('entrasync')
    .description('Directory sync from Microsoft Entra ID into the email-security console')
    .version('0.1.0')
    // Runs before the action of every command below, so none can forget it.
    .hook('preAction', refuseControlCharacters);
  appCommand(
    program,
    'migrate',
    'bring the database schema up to date (also done at every start)',
    (c) => c,
    async ({ app, out }) => {
      out.result(
        { migrated: true, database: app.store.dialect.name },
        () => `Database (${app.store.dialect.name}) is up to date.`,
      );
    },
  );
  registerOrgCommands(program);
  registerUserCommands(program);
  registerGroupCommands(program);
  const operator = program.command('operator').description('operators of the service');
  appCommand<{ email: string; passwordStdin?: boolean; passwordFile?: string }>(
    operator,
    'set-password',
    "set an operator's password (creates the operator when new)",
    (c) =>
      c
        .requiredOption('--email <address>', 'operator sign-in address')
        .option('--password-stdin', 'read the password from standard input')
        .option('--password-file <file>', 'read the password from a file'),
    async ({ app, out, opts }) => {
      const password = readSecret(opts.passwordStdin, opts.passwordFile, 'password');
      await app.auth.setOperatorPassword(opts.email, password);
      out.result({ email: opts.email, passwordSet: true }, () => `Password set for operator ${opts.email}.`);
    },
  );
  registerTokenCommands(program);
  registerEntraCommands(program);
  registerSyncCommand(program);
  registerJobCommands(program);
  registerServeCommand(program);
  registerEmulatorCommand(program);
  return program;
}
