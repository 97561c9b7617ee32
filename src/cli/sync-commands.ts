import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { invalid } from '../directory/errors.js';
import { BLOCKED_MAILBOX_RULES } from '../directory/recipients.js';
import type { ReadProgress } from '../graph/index.js';
import { CLOUD_NAMES } from '../graph/index.js';
import { type EntraSettingsView, FREQUENCIES } from '../services/entra-settings.js';
import type { Preview, RunResult, SyncPhase } from '../services/sync.js';
import { CATEGORIES } from '../sync/changes.js';
import { formatHow, formatWhat, HOW_WORDS, parseHow, parseWhat, WHAT_WORDS } from '../sync/policy.js';
import { readSecret } from './directory-commands.js';
import { refuseControlCharacter } from './input.js';
import { type ProgressState, renderProgress, withRead } from './progress.js';
import { appCommand, EXIT, FailureReported, failUnlessApplied } from './run.js';

/** `entrasync entra set|show|test`: an organization's connection to its Entra tenant. */
export function registerEntraCommands(program: Command): void {
  const entra = program.command('entra').description("an organization's Microsoft Entra ID connection");
  appCommand<{
    org: string;
    tenant?: string;
    clientId?: string;
    clientSecretFile?: string;
    clientSecretStdin?: boolean;
    secretExpires?: string;
    defaultRole?: string;
    blockedMailboxes?: string;
    guests?: string;
    what?: string;
    how?: string;
    every?: string;
    cloud?: string;
    authorityHost?: string;
    graphUrl?: string;
    caFile?: string;
    saveUntested?: boolean;
  }>(
    entra,
    'set',
    'save the connection settings (only the flags given change)',
    (c) =>
      c
        .requiredOption('--org <org>', 'organization id or domain')
        .option(
          '--tenant <tenant>',
          'the tenant: a verified domain (e.g. contoso.onmicrosoft.com) or the tenant GUID',
        )
        .option('--client-id <guid>', 'the Application (client) ID of the app registration')
        .option('--client-secret-file <file>', 'read the client secret Value from a file')
        .option('--client-secret-stdin', 'read the client secret Value from standard input')
        .option('--secret-expires <date>', "the secret's expiry date (YYYY-MM-DD), for reminders")
        .addOption(
          new Option('--default-role <role>', 'role of new users').choices(['end_user', 'silent_user']),
        )
        .addOption(
          new Option(
            '--blocked-mailboxes <rule>',
            'mailboxes with sign-in blocked whose purpose is unknown: deliver (keep receiving mail) or reject (inactive)',
          ).choices([...BLOCKED_MAILBOX_RULES]),
        )
        .addOption(
          new Option(
            '--guests <choice>',
            'guest users (invited from other organizations): sync or skip (the default)',
          ).choices(['sync', 'skip']),
        )
        .option('--what <list>', `what to sync: ${WHAT_WORDS.join(',')} (or all, none)`)
        .option('--how <list>', `how to sync: ${HOW_WORDS.join(',')} (or all, none)`)
        .addOption(
          new Option('--every <hours>', 'automatic sync frequency').choices([
            ...FREQUENCIES.map(String),
            'never',
          ]),
        )
        .addOption(new Option('--cloud <cloud>', 'Microsoft cloud').choices(CLOUD_NAMES))
        .option('--authority-host <url>', 'custom token endpoint origin (emulator, tests)')
        .option('--graph-url <url>', 'custom Graph root (emulator, tests)')
        .option('--ca-file <pem>', 'extra CA certificate to trust (emulator, tests)')
        .option(
          '--save-untested',
          'save a new key without first trying it against Entra (a refused key is otherwise not saved)',
        ),
    async ({ app, out, opts }) => {
      const org = await app.orgs.resolve(opts.org);
      const secret =
        opts.clientSecretFile || opts.clientSecretStdin
          ? readSecret(opts.clientSecretStdin, opts.clientSecretFile, 'client-secret')
          : undefined;
      const view = await app.entraSettings(org.id).set(
        {
          tenant: opts.tenant,
          clientId: opts.clientId,
          clientSecret: secret,
          secretExpiresAt: opts.secretExpires,
          defaultRole: opts.defaultRole,
          blockedMailboxes: opts.blockedMailboxes,
          includeGuests: opts.guests === undefined ? undefined : opts.guests === 'sync',
          what: opts.what === undefined ? undefined : parseWhat(opts.what),
          how: opts.how === undefined ? undefined : parseHow(opts.how),
          frequencyHours:
            opts.every === undefined ? undefined : opts.every === 'never' ? null : Number(opts.every),
          cloud: opts.cloud,
          authorityHost: opts.authorityHost,
          graphUrl: opts.graphUrl,
          caPem: opts.caFile === undefined ? undefined : readFile(opts.caFile, 'ca-file'),
        },
        // The CLI runs on the server, as its operator: custom endpoints are the operator's call.
        { allowCustomEndpoints: true, byOperator: true },
        'cli',
        { tryNewKey: !opts.saveUntested },
      );
      out.result(view, () => `Saved.\n${describeSettings(view)}`);
    },
  );
  appCommand<{ org: string }>(
    entra,
    'show',
    'show the connection settings (the secret only as its last 4 characters)',
    (c) => c.requiredOption('--org <org>', 'organization id or domain'),
    async ({ app, out, opts }) => {
      const org = await app.orgs.resolve(opts.org);
      const view = await app.entraSettings(org.id).get();
      out.result(view, () => describeSettings(view));
    },
  );
  appCommand<{ org: string }>(
    entra,
    'test',
    'test the connection: token, tenant, and a read of users, groups and members',
    (c) => c.requiredOption('--org <org>', 'organization id or domain'),
    async ({ app, out, opts }) => {
      const org = await app.orgs.resolve(opts.org);
      const report = await app.testConnection(org.id);
      out.result(report, () =>
        [
          ...report.steps.map((s) => {
            const mark = s.skipped ? '-' : s.ok ? '✓' : '✗';
            return [
              `${mark} ${s.step}${s.message ? `: ${s.message}` : ''}`,
              ...(s.hint ? [`    ${s.hint}`] : []),
            ].join('\n');
          }),
          report.ok ? 'The connection works.' : 'The connection does not work yet: see above.',
        ].join('\n'),
      );
      if (!report.ok) throw new FailureReported('the connection does not work');
    },
  );
}

/** `entrasync sync`: preview (--dry-run) or execute. */
export function registerSyncCommand(program: Command): void {
  appCommand<{ org: string; dryRun?: boolean; plan?: string; exclude?: string; what?: string; how?: string }>(
    program,
    'sync',
    'sync an organization from Entra: preview with --dry-run, or execute',
    (c) =>
      c
        .requiredOption('--org <org>', 'organization id or domain')
        .option('--dry-run', 'only preview: print the changes by category and store them as a plan')
        .option('--plan <id>', 'execute this stored preview (default: a fresh plan)')
        .option('--exclude <ids>', 'change ids to leave out (comma-separated)')
        .option('--what <list>', `override what to sync for this run: ${WHAT_WORDS.join(',')}`)
        .option('--how <list>', `override how to sync for this run: ${HOW_WORDS.join(',')}`),
    async ({ app, out, opts }) => {
      const org = await app.orgs.resolve(opts.org);
      const sync = await app.sync(org.id);
      const overrides = {
        what: opts.what === undefined ? undefined : parseWhat(opts.what),
        how: opts.how === undefined ? undefined : parseHow(opts.how),
      };
      const progress = new TerminalProgress();
      const watch = { onProgress: progress.read, onPhase: progress.phase };
      if (opts.dryRun) {
        if (opts.plan || opts.exclude)
          throw invalid('dry-run', '--dry-run makes a new preview: leave out --plan and --exclude.');
        const preview = await interruptible((signal) =>
          sync.preview({ ...overrides, ...watch, signal }, 'cli').finally(() => progress.done()),
        );
        out.result(preview, () => describePreview(preview, opts.org));
        return;
      }
      const excluded = (opts.exclude ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const result = await sync
        .execute(
          { ...overrides, ...watch, planId: opts.plan, excludedChangeIds: excluded, trigger: 'manual' },
          'cli',
        )
        .finally(() => progress.done());
      out.result(result, () => describeRun(result));
      failUnlessApplied(result);
    },
  );
}

/**
 * Runs `work` so that Ctrl-C stops it cleanly: the read stops at its next page, nothing is
 * stored, and the command exits 130. A second Ctrl-C ends the process at once (Node's default).
 */
async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  try {
    return await work(controller.signal);
  } catch (error) {
    if (!controller.signal.aborted) throw error;
    process.stderr.write('Cancelled: nothing was stored.\n');
    throw new FailureReported('cancelled by Ctrl-C', EXIT.interrupted);
  } finally {
    process.off('SIGINT', stop);
  }
}

/**
 * Progress on a terminal only (stderr, so --json output stays clean): per collection the pages
 * and objects read (a bar when the count is known), then planning — rewritten in place at most
 * ten times a second, and cleared before the result is printed.
 */
class TerminalProgress {
  readonly #tty = process.stderr.isTTY === true;
  #state: ProgressState = { phase: 'read', read: {} };
  #last = 0;

  phase = (phase: SyncPhase) => {
    this.#state = { ...this.#state, phase };
    this.#draw(true);
  };

  read = (page: ReadProgress) => {
    this.#state = withRead(this.#state, page);
    this.#draw(false);
  };

  done() {
    if (this.#tty) process.stderr.write('\r\x1b[K');
  }

  #draw(now: boolean) {
    if (!this.#tty) return;
    const at = Date.now();
    if (!now && at - this.#last < 100) return;
    this.#last = at;
    // A terminal whose size is unknown reports 0 columns (script(1), some CI consoles): assume 80.
    process.stderr.write(`\r\x1b[K${renderProgress(this.#state, process.stderr.columns || 80)}`);
  }
}

function describeSettings(v: EntraSettingsView): string {
  if (!v.tenant) return 'Not connected to Entra yet: run `entrasync entra set`.';
  return [
    `tenant:        ${v.tenant}`,
    `client id:     ${v.clientId}`,
    `key:           ${v.secret.set ? `set, ends in …${v.secret.last4}` : 'not set'}${v.secret.expiresAt ? ` (expires ${v.secret.expiresAt})` : ''}`,
    `default role:  ${v.defaultRole}`,
    `blocked mailboxes of unknown purpose: ${v.blockedMailboxes === 'deliver' ? 'keep receiving mail' : 'reject mail (inactive)'}`,
    `guests:        ${v.includeGuests ? 'synced' : 'skipped'}`,
    `what:          ${formatWhat(v.what)}`,
    `how:           ${formatHow(v.how)}`,
    `every:         ${v.frequencyHours ? `${v.frequencyHours} h` : 'never (manual only)'}`,
    `cloud:         ${v.cloud}${v.authorityHost ? ` (custom: ${v.authorityHost}, ${v.graphUrl})` : ''}`,
    ...(v.adminConsentUrl ? [`admin consent: ${v.adminConsentUrl}`] : []),
  ].join('\n');
}

function describePreview(p: Preview, org: string): string {
  const lines = [
    `Preview ${p.planId} (valid until ${p.expiresAt}), read by ${p.read.mode} in ${p.read.requests} requests:`,
  ];
  for (const category of CATEGORIES) {
    const changes = p[category];
    lines.push(`  ${category}: ${changes.length}`);
    for (const c of changes.slice(0, 20)) lines.push(`    ${c.id}  ${c.address ?? c.name}`);
    if (changes.length > 20) lines.push(`    … and ${changes.length - 20} more (--json lists all)`);
  }
  lines.push(`  skipped: ${p.skipped.length}`);
  for (const [reason, n] of Object.entries(p.skippedByReason)) if (n > 0) lines.push(`    ${reason}: ${n}`);
  for (const s of p.skipped.slice(0, 10)) lines.push(`    [${s.reason}] ${s.message}`);
  if (p.skipped.length > 10) lines.push(`    … and ${p.skipped.length - 10} more (--json lists all)`);
  const expected = p.expectedLeftOut.initialDomainAliases;
  if (expected > 0)
    lines.push(
      `  left out, as expected: ${expected} alias${expected === 1 ? '' : 'es'} in the tenant's own onmicrosoft.com domains`,
    );
  lines.push(`  unchanged: ${p.unchanged}`);
  const b = p.blockedSignIn;
  if (b.functional + b.person + b.rule > 0) {
    const rule = p.policy.blockedMailboxes === 'deliver' ? 'kept receiving mail' : 'rejected';
    const why = p.read.mailboxes.denied
      ? ' (MailboxSettings.Read is not granted: `entrasync entra test` says how to grant it)'
      : p.read.mailboxes.issues.length
        ? ` (${p.read.mailboxes.issues.map((i) => `${i.users} ${i.cause.replaceAll('_', ' ')}`).join(', ')})`
        : '';
    lines.push(
      `  sign-in blocked: ${b.functional} shared/room/equipment mailboxes stay deliverable, ${b.person} people's mailboxes inactive, ${b.rule} of unknown purpose ${rule} by the organization's rule${b.rule ? why : ''}`,
    );
  }
  const seats = p.seats;
  lines.push(
    `  billable users: ${seats.before} → ${seats.after}${seats.licensed === null ? '' : ` of ${seats.licensed} licensed${seats.after > seats.licensed ? ' — THIS SYNC WOULD PASS THE LICENCE' : ''}`}`,
  );
  lines.push(`Execute it with: entrasync sync --org ${org} --plan ${p.planId} [--exclude ID,…]`);
  return lines.join('\n');
}

function describeRun(r: RunResult): string {
  const applied = CATEGORIES.map((c) => `${c} ${r.applied[c]}`).join(', ');
  return [
    `Run ${r.runId}: ${r.status}`,
    `  applied: ${applied}`,
    `  excluded: ${r.excluded}, conflicts: ${r.conflicts.length}, skipped: ${r.skipped}`,
    ...r.conflicts.slice(0, 20).map((c) => `  conflict ${c.changeId}: ${c.message}`),
    ...r.errors.map((e) => `  error [${e.code}] ${e.message}${e.hint ? `\n    ${e.hint}` : ''}`),
  ].join('\n');
}

function readFile(file: string, field: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw invalid(field, `Cannot read ${file}: ${(error as Error).message}`);
  }
  refuseControlCharacter(text, field, `--${field} ${file}`);
  return text;
}
