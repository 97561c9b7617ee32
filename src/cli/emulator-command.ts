import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  EMULATOR_CLOUDS,
  type EmulatorCloud,
  type EmulatorOptions,
  startEmulator,
} from '../emulator/index.js';
import { PORT_RANGE, wholeNumberOption } from './input.js';

function rateArg(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new InvalidArgumentError('fault rate must be a number from 0 to 1');
  return n;
}

interface EmulatorCommandOptions {
  port?: number;
  host: string;
  asMicrosoft?: boolean;
  cloud?: EmulatorCloud;
  users?: number;
  groups?: number;
  seed?: number;
  domainPrefix?: string;
  tenantFile?: string;
  latencyMs?: number;
  faultRate?: number;
  stateDir?: string;
  throttle: boolean;
  json?: boolean;
}

/** `entrasync emulator`: runs the Microsoft Entra ID + Graph emulator until SIGTERM/SIGINT. */
export function registerEmulatorCommand(program: Command): void {
  program
    .command('emulator')
    .description('run the Microsoft Entra ID + Microsoft Graph emulator (HTTPS, own CA)')
    .addOption(
      wholeNumberOption(
        '--port <n>',
        'port to listen on (0 = a free port; default 0, or 443 with --as-microsoft)',
        PORT_RANGE,
      ),
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option(
      '--as-microsoft',
      'answer as Microsoft\'s own hosts (point them at --host, e.g. in /etc/hosts); prints them as "hosts"',
    )
    .addOption(
      new Option(
        '--cloud <cloud>',
        'with --as-microsoft: the cloud whose hosts to answer as (default global)',
      ).choices(EMULATOR_CLOUDS),
    )
    .addOption(wholeNumberOption('--users <n>', 'generated users (default 200)', { min: 0, max: 10_000_000 }))
    .addOption(wholeNumberOption('--groups <n>', 'generated groups (default 20)', { min: 0, max: 1_000_000 }))
    .addOption(
      wholeNumberOption('--seed <n>', 'generator seed; also picks the tenant domains (default 1)', {
        min: 0,
        max: 2 ** 31 - 1,
      }),
    )
    .option('--domain-prefix <name>', 'company name for the generated domains (e.g. contoso)')
    .option('--tenant-file <file>', 'load the tenant from a JSON file instead of generating one')
    .addOption(
      wholeNumberOption('--latency-ms <ms>', 'latency added to every identity and Graph request', {
        min: 0,
        max: 600_000,
      }),
    )
    .option('--fault-rate <r>', 'share of Graph requests answered 429, 503, 504 or dropped (0..1)', rateArg)
    .option('--state-dir <dir>', 'where ca.pem is written and reused (default: a temp dir)')
    .option('--no-throttle', 'disable resource-unit throttling')
    .option('--json', 'print one line of JSON once ready')
    .action(async (opts: EmulatorCommandOptions, cmd: Command) => {
      if (
        opts.tenantFile &&
        (opts.users !== undefined || opts.groups !== undefined || opts.seed !== undefined)
      ) {
        cmd.error('--tenant-file cannot be combined with --users/--groups/--seed', { exitCode: 2 });
      }
      if (opts.domainPrefix !== undefined && !/^[a-z0-9][a-z0-9-]{0,40}$/i.test(opts.domainPrefix)) {
        cmd.error('--domain-prefix must be letters, digits and dashes', { exitCode: 2 });
      }
      if (opts.cloud !== undefined && !opts.asMicrosoft) {
        cmd.error('--cloud needs --as-microsoft', { exitCode: 2 });
      }
      const options: EmulatorOptions = {
        port: opts.port,
        host: opts.host,
        asMicrosoft: opts.asMicrosoft ? (opts.cloud ?? 'global') : undefined,
        users: opts.users,
        groups: opts.groups,
        seed: opts.seed,
        domainPrefix: opts.domainPrefix,
        tenantFile: opts.tenantFile,
        latencyMs: opts.latencyMs,
        faultRate: opts.faultRate,
        stateDir: opts.stateDir,
        throttle: opts.throttle,
      };
      const emulator = await startEmulator(options);
      const { info } = emulator;
      if (opts.json) {
        const line = {
          authorityHost: info.authorityHost,
          graphBaseUrl: info.graphBaseUrl,
          hosts: info.hosts,
          ...(info.cloud ? { cloud: info.cloud } : {}),
          caFile: info.caFile,
          tenantId: info.tenantId,
          tenantDomains: info.tenantDomains,
          apps: info.apps.map((a) => ({
            clientId: a.clientId,
            clientSecret: a.clientSecret,
            roles: a.roles,
            secretExpired: a.secretExpired,
            displayName: a.displayName,
          })),
          adminUrl: info.adminUrl,
        };
        process.stdout.write(`${JSON.stringify(line)}\n`);
      } else {
        const users = emulator.tenant.listUsers().length;
        const groups = emulator.tenant.listGroups().length;
        const lines = [
          `Entra ID + Graph emulator ready (${users} users, ${groups} groups)`,
          `  authority host: ${info.authorityHost}   (token: ${info.authorityHost}/${info.tenantId}/oauth2/v2.0/token)`,
          `  Graph base URL: ${info.graphBaseUrl}   (e.g. ${info.graphBaseUrl}/v1.0/users)`,
          ...(info.cloud
            ? [
                `  answers as:     ${info.hosts.join(', ')} (the ${info.cloud} cloud; point these names at ${opts.host})`,
              ]
            : []),
          `  CA file:        ${info.caFile}`,
          `  tenant:         ${info.tenantId}  domains: ${info.tenantDomains.join(', ')}`,
          `  admin API:      ${info.adminUrl}`,
          '  apps:',
          ...info.apps.map(
            (a) =>
              `    ${a.displayName.padEnd(22)} client id ${a.clientId}  secret ${a.clientSecret}  roles [${a.roles.join(', ')}]${a.secretExpired ? '  (secret expired)' : ''}`,
          ),
          'Press Ctrl+C to stop.',
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          emulator.close().then(resolve, (err: unknown) => {
            process.stderr.write(`entrasync: emulator did not close cleanly: ${(err as Error).message}\n`);
            resolve();
          });
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
