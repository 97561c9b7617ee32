import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { invalid } from '../directory/errors.js';
import { GROUP_KINDS, type Organization, ROLES } from '../directory/model.js';
import { MAILBOX_FILTERS, type MailboxFilter } from '../directory/recipients.js';
import {
  type AttentionItem,
  NEEDS,
  type Need,
  OVERVIEW_SORTS,
  type OverviewQuery,
  type OverviewSort,
} from '../jobs/attention.js';
import { serviceOverview } from '../jobs/overview.js';
import type { App } from '../services/app.js';
import { refuseControlCharacter } from './input.js';
import { appCommand, collect, table } from './run.js';

const ALL = { limit: 1_000_000, offset: 0 };

interface OrgListOptions {
  health?: boolean;
  sort?: string;
  order?: string;
  needs?: string;
  limit?: string;
  offset?: string;
}

function healthQuery(opts: OrgListOptions): OverviewQuery {
  const pick = <T extends string>(
    flag: string,
    value: string | undefined,
    allowed: readonly T[],
    dflt: T,
  ) => {
    if (value === undefined) return dflt;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    throw invalid(flag, `Unknown --${flag} "${value}": use ${allowed.join(', ')}.`);
  };
  const whole = (flag: string, value: string | undefined, dflt: number, min: number) => {
    if (value === undefined) return dflt;
    if (!/^\d{1,9}$/.test(value) || Number(value) < min)
      throw invalid(flag, `--${flag} is a whole number of at least ${min}: "${value}" is not.`);
    return Number(value);
  };
  const needs = opts.needs === undefined ? undefined : pick<Need>('needs', opts.needs, NEEDS, 'any');
  return {
    sort: pick<OverviewSort>('sort', opts.sort, OVERVIEW_SORTS, 'attention'),
    order: pick('order', opts.order, ['asc', 'desc'] as const, 'asc'),
    limit: whole('limit', opts.limit, Number.MAX_SAFE_INTEGER, 1),
    offset: whole('offset', opts.offset, 0, 0),
    ...(needs ? { needs } : {}),
  };
}

/** One line per organization: its attention, then the facts behind it. */
function healthTable(page: { total: number; items: AttentionItem[] }): string {
  const day = (iso: string | null) => (iso ? iso.slice(0, 16).replace('T', ' ') : '');
  const rows = page.items.map((i) => ({
    attention: i.attention,
    name: i.name,
    id: i.id,
    domains: i.domains,
    connected: i.connected ? 'yes' : 'no',
    lastRun: i.lastRun ? `${i.lastRun.status} ${day(i.lastRun.startedAt)}` : 'never',
    lastSuccess: i.lastSuccessAt ? day(i.lastSuccessAt) : 'never',
    key: i.key ? `${i.key.expiresAt} (${i.key.daysLeft <= 0 ? 'expired' : `${i.key.daysLeft} d`})` : '',
    schedule: !i.connected ? '' : i.frequencyHours ? `every ${i.frequencyHours} h` : 'manual',
    also: [
      ...i.reasons.slice(1),
      ...(i.health.lastError ? [`error ${i.health.lastError.code}`] : []),
      ...(i.heldRunId ? [`held run ${i.heldRunId}`] : []),
    ].join(', '),
  }));
  const shown = rows.length < page.total ? `\n${rows.length} of ${page.total} organizations.` : '';
  return `${table(rows, ['attention', 'name', 'id', 'domains', 'connected', 'lastRun', 'lastSuccess', 'key', 'schedule', 'also'])}${shown}`;
}

/** `entrasync org …`: organizations and their domains. */
export function registerOrgCommands(program: Command): void {
  const org = program.command('org').description('organizations and their domains');
  appCommand<{ name: string; domain: string[] }>(
    org,
    'create',
    'create an organization with one or more domains',
    (c) =>
      c
        .requiredOption('--name <name>', 'the organization name')
        .requiredOption('--domain <domain>', 'a domain it owns (repeatable)', collect),
    async ({ app, out, opts }) => {
      const created = await app.orgs.create({ name: opts.name, domains: opts.domain }, 'cli');
      out.result(
        created,
        () => `Created organization ${created.name} (${created.id}) for ${created.domains.join(', ')}.`,
      );
    },
  );
  appCommand<OrgListOptions>(
    org,
    'list',
    'list organizations; --health: by what needs attention (failing, held, key expiring, never synced)',
    (c) =>
      c
        .option('--health', "rank by what needs attention, with each organization's sync facts")
        .option('--sort <sort>', 'with --health: attention (default), name or lastSuccess')
        .option('--order <order>', 'with --health: asc (default) or desc')
        .option('--needs <need>', 'with --health: only failing, held, key, never or any')
        .option('--limit <n>', 'with --health: at most this many (default all)')
        .option('--offset <n>', 'with --health: skip this many first (default 0)'),
    async ({ app, out, opts }) => {
      if (!opts.health) {
        for (const flag of ['sort', 'order', 'needs', 'limit', 'offset'] as const)
          if (opts[flag] !== undefined) throw invalid(flag, `--${flag} goes with --health.`);
        const orgs = await app.orgs.list();
        out.result(orgs, () => table(orgs, ['id', 'name', 'domains', 'licensedSeats']));
        return;
      }
      const page = await serviceOverview(app, healthQuery(opts));
      out.result(page, () => healthTable(page));
    },
  );
  appCommand<{ org: string; licensedSeats: string }>(
    org,
    'seats',
    "set the seats the organization's licence covers (previews warn when a sync would pass it)",
    (c) =>
      c
        .requiredOption('--org <org>', 'organization id or domain')
        .requiredOption('--licensed-seats <n>', "a whole number, or 'none' to stop tracking"),
    async ({ app, out, opts }) => {
      const target = await app.orgs.resolve(opts.org);
      const text = opts.licensedSeats.trim();
      const seats = text === 'none' ? null : /^\d+$/.test(text) ? Number(text) : text;
      const updated = await app.orgs.setLicensedSeats(target.id, seats, 'cli');
      out.result(updated, () =>
        updated.licensedSeats === null
          ? `${updated.name}: licensed seats not tracked.`
          : `${updated.name}: ${updated.licensedSeats} licensed seats.`,
      );
    },
  );
  const domains = org
    .command('domains')
    .description(
      "an organization's domains: list, add (counts at once: the CLI is the operator's), verify, remove",
    );
  const orgAndDomain = (c: Command) =>
    c
      .requiredOption('--org <org>', 'organization id or domain')
      .requiredOption('--domain <domain>', 'the domain');
  const summary = (o: Organization) =>
    `${o.name} now has: ${o.domains.join(', ') || 'no domain'}` +
    (o.pendingDomains.length ? ` (pending: ${o.pendingDomains.join(', ')}).` : '.');
  appCommand<{ org: string }>(
    domains,
    'list',
    'list the domains, with how each was proven or the TXT record a pending one needs',
    (c) => c.requiredOption('--org <org>', 'organization id or domain'),
    async ({ app, out, opts }) => {
      const target = await app.orgs.resolve(opts.org);
      const entries = await app.orgs.listDomains(target.id);
      out.result(entries, () =>
        entries
          .map((d) =>
            d.txtRecord
              ? `${d.domain}  pending: publish TXT ${d.txtRecord.name} "${d.txtRecord.value}"` +
                (d.lastCheck ? `\n  last check ${d.lastCheck.at}: ${d.lastCheck.outcome}` : '')
              : `${d.domain}  verified (${d.provenBy}${d.provenAt ? `, ${d.provenAt}` : ''})`,
          )
          .join('\n'),
      );
    },
  );
  appCommand<{ org: string; domain: string }>(
    domains,
    'add',
    'add a domain (it counts at once)',
    orgAndDomain,
    async ({ app, out, opts }) => {
      const target = await app.orgs.resolve(opts.org);
      const updated = await app.orgs.addDomain(target.id, opts.domain, 'cli', { direct: true });
      out.result(updated, () => summary(updated));
    },
  );
  appCommand<{ org: string; domain: string }>(
    domains,
    'verify',
    "look for a pending domain's proof: its DNS TXT record, or the Entra tenant's verified domains",
    orgAndDomain,
    async ({ app, out, opts }) => {
      const target = await app.orgs.resolve(opts.org);
      const entry = await app.orgs.verifyDomain(
        target.id,
        opts.domain,
        'cli',
        app.domainProofSources(target.id),
      );
      out.result(entry, () => `${entry.domain} is verified (${entry.provenBy}).`);
    },
  );
  appCommand<{ org: string; domain: string }>(
    domains,
    'remove',
    'remove a domain (proven or pending)',
    orgAndDomain,
    async ({ app, out, opts }) => {
      const target = await app.orgs.resolve(opts.org);
      const updated = await app.orgs.removeDomain(target.id, opts.domain, 'cli');
      out.result(updated, () => summary(updated));
    },
  );
}

/** `entrasync users …`. */
export function registerUserCommands(program: Command): void {
  const users = program.command('users').description("an organization's users");
  appCommand<{
    org: string;
    email: string;
    alias?: string[];
    role: string;
    first?: string;
    last?: string;
    displayName?: string;
  }>(
    users,
    'add',
    'add a user by hand',
    (c) =>
      c
        .requiredOption('--org <org>', 'organization id or domain')
        .requiredOption('--email <address>', 'primary address')
        .option('--alias <address>', 'an alias (repeatable)', collect)
        .addOption(new Option('--role <role>', 'role').choices([...ROLES]).default('end_user'))
        .option('--first <name>', 'first name')
        .option('--last <name>', 'last name')
        .option('--display-name <name>', 'display name (default: first and last)'),
    async ({ app, out, opts }) => {
      const dir = await directoryOf(app, opts.org);
      const user = await dir.addUser(
        {
          email: opts.email,
          aliases: opts.alias ?? [],
          role: opts.role,
          firstName: opts.first ?? null,
          lastName: opts.last ?? null,
          displayName: opts.displayName ?? null,
        },
        'cli',
      );
      out.result(user, () => `Added ${user.email} (${user.role}).`);
    },
  );
  appCommand<{ org: string; search?: string; mailbox?: MailboxFilter }>(
    users,
    'list',
    'list users with aliases, role, status, mailbox and source',
    (c) =>
      c
        .requiredOption('--org <org>', 'organization id or domain')
        .option('--search <text>', 'filter')
        .addOption(
          new Option(
            '--mailbox <kind>',
            'only this mailbox purpose (functional: shared, room and equipment; unknown: not known)',
          ).choices([...MAILBOX_FILTERS]),
        ),
    async ({ app, out, opts }) => {
      const dir = await directoryOf(app, opts.org);
      const { items } = await dir.listUsers({ ...ALL, search: opts.search, mailbox: opts.mailbox });
      out.result(items, () =>
        table(items, ['email', 'aliases', 'displayName', 'role', 'status', 'mailbox', 'source', 'exempt']),
      );
    },
  );
  appCommand<{ org: string; email: string }>(
    users,
    'remove',
    'remove a user',
    (c) =>
      c
        .requiredOption('--org <org>', 'organization id or domain')
        .requiredOption('--email <address>', 'address'),
    async ({ app, out, opts }) => {
      const dir = await directoryOf(app, opts.org);
      const user = await dir.findUser(opts.email);
      await dir.removeUser(user.id, 'cli');
      out.result({ removed: user.email, id: user.id }, () => `Removed ${user.email}.`);
    },
  );
  appCommand<{ org: string; email: string; exempt: boolean }>(
    users,
    'exempt',
    'mark a user exempt from sync (or not, with --no-exempt)',
    (c) =>
      c
        .requiredOption('--org <org>', 'organization id or domain')
        .requiredOption('--email <address>', 'address')
        .option('--no-exempt', 'let sync change the user again'),
    async ({ app, out, opts }) => {
      const dir = await directoryOf(app, opts.org);
      const user = await dir.findUser(opts.email);
      const updated = await dir.updateUser(user.id, { exempt: opts.exempt }, 'cli');
      out.result(
        updated,
        () => `${updated.email} is ${updated.exempt ? 'now' : 'no longer'} exempt from sync.`,
      );
    },
  );
  appCommand<{ org: string; email: string; passwordStdin?: boolean; passwordFile?: string }>(
    users,
    'set-password',
    'set the console password of a user (org admins and end users)',
    (c) =>
      c
        .requiredOption('--org <org>', 'organization id or domain')
        .requiredOption('--email <address>', 'address')
        .option('--password-stdin', 'read the password from standard input')
        .option('--password-file <file>', 'read the password from a file'),
    async ({ app, out, opts }) => {
      const password = readSecret(opts.passwordStdin, opts.passwordFile, 'password');
      const dir = await directoryOf(app, opts.org);
      const user = await dir.findUser(opts.email);
      const { checkPassword, hashPassword } = await import('../services/auth.js');
      await dir.setPasswordHash(user.id, await hashPassword(checkPassword(password)), 'cli');
      out.result({ email: user.email, passwordSet: true }, () => `Password set for ${user.email}.`);
    },
  );
}

/** `entrasync groups …`. */
export function registerGroupCommands(program: Command): void {
  const groups = program.command('groups').description("an organization's groups");
  appCommand<{
    org: string;
    name: string;
    kind: string;
    email?: string;
    alias?: string[];
    member?: string[];
  }>(
    groups,
    'add',
    'add a group by hand',
    (c) =>
      c
        .requiredOption('--org <org>', 'organization id or domain')
        .requiredOption('--name <name>', 'group name')
        .addOption(new Option('--kind <kind>', 'group kind').choices([...GROUP_KINDS]).makeOptionMandatory())
        .option('--email <address>', 'the group address (makes it a functional account)')
        .option('--alias <address>', 'an alias of the group address (repeatable)', collect)
        .option(
          '--member <address-or-name>',
          'a member user (address) or group (address or name); repeatable',
          collect,
        ),
    async ({ app, out, opts }) => {
      const dir = await directoryOf(app, opts.org);
      const group = await dir.addGroup(
        {
          name: opts.name,
          kind: opts.kind,
          email: opts.email ?? null,
          aliases: opts.alias ?? [],
          members: opts.member ?? [],
        },
        'cli',
      );
      out.result(
        group,
        () => `Added group ${group.name} (${group.kind}) with ${group.members.length} member(s).`,
      );
    },
  );
  appCommand<{ org: string; search?: string }>(
    groups,
    'list',
    'list groups with kind, address and members',
    (c) => c.requiredOption('--org <org>', 'organization id or domain').option('--search <text>', 'filter'),
    async ({ app, out, opts }) => {
      const dir = await directoryOf(app, opts.org);
      const { items } = await dir.listGroups({ ...ALL, search: opts.search });
      const rows = items.map((g) => ({ ...g, members: `${g.members.length}` }));
      out.result(items, () => table(rows, ['name', 'kind', 'email', 'members', 'source', 'exempt']));
    },
  );
  appCommand<{ org: string; name: string }>(
    groups,
    'remove',
    'remove a group',
    (c) =>
      c
        .requiredOption('--org <org>', 'organization id or domain')
        .requiredOption('--name <name-or-id>', 'the group'),
    async ({ app, out, opts }) => {
      const dir = await directoryOf(app, opts.org);
      const { items } = await dir.listGroups({ ...ALL, search: undefined });
      const matches = items.filter(
        (g) => g.id === opts.name || g.name === opts.name || g.email === opts.name,
      );
      if (matches.length !== 1) {
        throw invalid(
          'name',
          matches.length ? `Several groups match "${opts.name}": use the id.` : `No group "${opts.name}".`,
        );
      }
      await dir.removeGroup(matches[0]!.id, 'cli');
      out.result(
        { removed: matches[0]!.name, id: matches[0]!.id },
        () => `Removed group ${matches[0]!.name}.`,
      );
    },
  );
}

async function directoryOf(app: App, ref: string) {
  const org = await app.orgs.resolve(ref);
  return app.directory(org.id);
}

/** Reads a secret from stdin or a file (never from a flag: flags end up in shell history and `ps`). */
export function readSecret(fromStdin: boolean | undefined, file: string | undefined, what: string): string {
  if (Boolean(fromStdin) === Boolean(file)) {
    throw invalid(what, `Give the ${what} with exactly one of --${what}-stdin or --${what}-file.`);
  }
  let raw: string;
  try {
    raw = fromStdin ? readFileSync(0, 'utf8') : readFileSync(file!, 'utf8');
  } catch (error) {
    throw invalid(what, `Cannot read the ${what}: ${(error as Error).message}`);
  }
  const value = raw.replace(/\r?\n$/, '');
  if (!value) throw invalid(what, `The ${what} is empty.`);
  // Flags were checked before the command ran; what stdin or a file holds is checked here.
  refuseControlCharacter(value, what, `The ${what} read from ${fromStdin ? 'standard input' : file}`);
  return value;
}
