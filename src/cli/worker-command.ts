import { createServer } from 'node:http';
import { type Command, Option } from 'commander';
import { loadConfig } from '../config.js';
import { AutomationService, jobMetrics, SAFEGUARD_LIMITS, startJobs } from '../jobs/index.js';
import { jobsLogger } from '../jobs/logger.js';
import { openApp } from '../services/app.js';
import type { RunResult } from '../services/sync.js';
import { CATEGORIES } from '../sync/changes.js';
import { readSecret } from './directory-commands.js';
import { PORT_RANGE, wholeNumberOption } from './input.js';
import { appCommand, failUnlessApplied, makeOutput } from './run.js';

/** `entrasync worker`, `entrasync sync approve|dismiss`, `entrasync automation show|set`. */
export function registerJobCommands(program: Command): void {
  registerWorkerCommand(program);
  registerHeldRunCommands(program);
  registerAutomationCommands(program);
}

/**
 * Syncs one worker runs at once. Each holds a database connection (PostgreSQL allows 100 by
 * default, all clients together) and a share of this process's memory.
 */
const MAX_CONCURRENCY = 100;

function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description(
      'run automatic syncs (PostgreSQL: share the queue with other workers; SQLite: the in-process schedule)',
    )
    .option('--scheduler', 'also enqueue due organizations (safe in several processes)')
    .addOption(
      wholeNumberOption(
        '--concurrency <n>',
        `syncs this process runs at once, 1 to ${MAX_CONCURRENCY} (default: ENTRASYNC_WORKER_CONCURRENCY or 1)`,
        { min: 1, max: MAX_CONCURRENCY },
      ),
    )
    // Parsed with the command line, before anything starts: once the worker runs, a bad flag
    // would only be printed.
    .addOption(
      wholeNumberOption('--metrics-port <port>', 'serve GET /metrics (Prometheus) on this port', PORT_RANGE),
    )
    .action(async (opts: { scheduler?: boolean; concurrency?: number; metricsPort?: number }) => {
      const config = loadConfig();
      const jobsConfig = { ...config.jobs, concurrency: opts.concurrency ?? config.jobs.concurrency };
      const { metricsPort } = opts;
      const logger = jobsLogger({
        name: 'entrasync-worker',
        format: config.logFormat,
        level: config.logLevel,
      });
      const app = await openApp(config);
      const jobs = await startJobs(
        app,
        { scheduler: Boolean(opts.scheduler), worker: true },
        { config: jobsConfig, logger },
      );
      const metricsServer =
        metricsPort === undefined
          ? null
          : createServer((request, response) => {
              if (request.url !== '/metrics') {
                response.writeHead(404).end();
                return;
              }
              jobMetrics(app)
                .text()
                .then(
                  (text) =>
                    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(text),
                  (error: unknown) => {
                    logger.error({ err: error }, 'metrics failed');
                    response.writeHead(500).end();
                  },
                );
            }).listen(metricsPort, config.host);
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'worker stopping: waiting for running syncs');
        metricsServer?.close();
        await jobs.stop();
        await app.close();
        logger.info('worker stopped');
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    });
}

/** `entrasync sync approve|dismiss --org ORG --run ID`: decide a run the deletion safeguard held. */
function registerHeldRunCommands(program: Command): void {
  const sync = program.commands.find((c) => c.name() === 'sync');
  if (!sync) throw new Error('register the sync command before the job commands');
  for (const [name, description] of [
    ['approve', 'apply a sync run held by the deletion safeguard'],
    ['dismiss', 'drop a sync run held by the deletion safeguard (nothing is applied)'],
  ] as const) {
    const command = sync.command(name).description(description).requiredOption('--run <id>', 'the held run');
    if (name === 'approve') {
      command.option('--exclude <ids>', 'change ids of the held plan to leave out (comma-separated)');
    }
    command
      .addOption(new Option('--json', 'print machine-readable JSON'))
      .action(async (_opts: unknown, cmd: Command) => {
        // --org and --json are parsed by the parent `sync` command, which declares them too.
        const opts = cmd.optsWithGlobals<{ org: string; run: string; exclude?: string; json?: boolean }>();
        const out = makeOutput(Boolean(opts.json));
        const app = await openApp(loadConfig());
        try {
          const org = await app.orgs.resolve(opts.org);
          const sync = await app.sync(org.id);
          if (name === 'approve') {
            const excluded = (opts.exclude ?? '')
              .split(',')
              .map((id) => id.trim())
              .filter(Boolean);
            const result = await sync.approve(opts.run, 'cli', excluded);
            out.result(result, () => describeApproved(result));
            failUnlessApplied(result);
          } else {
            await sync.dismiss(opts.run, 'cli');
            out.result(
              { runId: opts.run, status: 'dismissed' },
              () => `Run ${opts.run} dismissed: nothing applied.`,
            );
          }
        } finally {
          await app.close();
        }
      });
  }
}

function describeApproved(r: RunResult): string {
  const applied = CATEGORIES.map((c) => `${c} ${r.applied[c]}`).join(', ');
  return [
    `Run ${r.runId}: ${r.status}`,
    `  applied: ${applied}`,
    ...r.conflicts.slice(0, 20).map((c) => `  conflict ${c.changeId}: ${c.message}`),
    ...r.errors.map((e) => `  error [${e.code}] ${e.message}`),
  ].join('\n');
}

function registerAutomationCommands(program: Command): void {
  const automation = program
    .command('automation')
    .description("an organization's automatic-sync settings: deletion safeguard, notification webhook");
  appCommand<{ org: string }>(
    automation,
    'show',
    'show the safeguard threshold and the webhook (never its secret)',
    (c) => c.requiredOption('--org <org>', 'organization id or domain'),
    async ({ app, out, opts }) => {
      const org = await app.orgs.resolve(opts.org);
      const view = await new AutomationService(app, org.id, app.config.jobs.allowPrivateWebhooks).get();
      out.result(view, () => describeAutomation(view));
    },
  );
  appCommand<{
    org: string;
    safeguardPercent?: number;
    safeguardMinUsers?: number;
    webhookUrl?: string;
    webhookSecretStdin?: boolean;
    webhookSecretFile?: string;
  }>(
    automation,
    'set',
    'change the safeguard threshold or the webhook (only the flags given change)',
    (c) =>
      c
        .requiredOption('--org <org>', 'organization id or domain')
        .addOption(
          wholeNumberOption(
            '--safeguard-percent <n>',
            'hold automatic syncs removing more than this % of synced users',
            { ...SAFEGUARD_LIMITS.percent, what: 'a whole percentage' },
          ),
        )
        .addOption(
          wholeNumberOption('--safeguard-min-users <n>', '…and at least this many users', {
            ...SAFEGUARD_LIMITS.minUsers,
            what: 'a whole number of users',
          }),
        )
        .option('--webhook-url <url>', 'https URL notifications are posted to ("" removes it)')
        .option('--webhook-secret-stdin', 'read the HMAC secret of the webhook from standard input')
        .option('--webhook-secret-file <file>', 'read the HMAC secret of the webhook from a file'),
    async ({ app, out, opts }) => {
      const org = await app.orgs.resolve(opts.org);
      const secret =
        opts.webhookSecretStdin || opts.webhookSecretFile
          ? readSecret(opts.webhookSecretStdin, opts.webhookSecretFile, 'webhook-secret')
          : undefined;
      // The same rule as the server's (src/jobs/webhook.ts): a URL the worker would never post to
      // is refused here too, unless custom clouds (and so private webhooks) are allowed the same way.
      const view = await new AutomationService(app, org.id, app.config.jobs.allowPrivateWebhooks).set(
        {
          safeguardPercent: opts.safeguardPercent,
          safeguardMinUsers: opts.safeguardMinUsers,
          webhookUrl: opts.webhookUrl === undefined ? undefined : opts.webhookUrl || null,
          webhookSecret: secret,
        },
        'cli',
      );
      out.result(view, () => `Saved.\n${describeAutomation(view)}`);
    },
  );
}

function describeAutomation(v: Awaited<ReturnType<AutomationService['get']>>): string {
  return [
    `safeguard: hold automatic syncs removing > ${v.safeguard.percent} % of synced users and ≥ ${v.safeguard.minUsers}`,
    `webhook:   ${v.webhook.url ?? '(none)'}${v.webhook.url ? (v.webhook.secretSet ? ' (signed)' : ' (unsigned)') : ''}`,
    ...(v.webhook.undeliverable ? [`           not delivered: ${v.webhook.undeliverable}`] : []),
  ].join('\n');
}
