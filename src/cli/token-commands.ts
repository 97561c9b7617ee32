import type { Command } from 'commander';
import type { App } from '../services/app.js';
import { TOKEN_DAYS } from '../services/auth.js';
import { wholeNumberOption } from './input.js';
import { appCommand, table } from './run.js';

/** The organization a token command names, or null for operator tokens (all organizations). */
async function orgIdOf(app: App, org: string | undefined): Promise<string | null> {
  return org ? (await app.orgs.resolve(org)).id : null;
}

/** `entrasync tokens create|list|revoke`: API tokens for automation. */
export function registerTokenCommands(program: Command): void {
  const tokens = program.command('tokens').description('API tokens for automation');
  appCommand<{ name: string; org?: string; expiresInDays?: number; canCreateTokens?: boolean }>(
    tokens,
    'create',
    'create an API token (printed once; stored only as a hash)',
    (c) =>
      c
        .requiredOption('--name <name>', 'what uses the token')
        .option('--org <org>', 'limit it to one organization (default: an operator token for all)')
        .addOption(
          wholeNumberOption(
            '--expires-in-days <days>',
            `days until it stops working, 1 to ${TOKEN_DAYS.max} (default ${TOKEN_DAYS.default})`,
            { min: 1, max: TOKEN_DAYS.max, what: 'a whole number of days' },
          ),
        )
        .option('--can-create-tokens', 'let requests made with this token create tokens'),
    async ({ app, out, opts }) => {
      const orgId = await orgIdOf(app, opts.org);
      const created = await app.auth.createApiToken({
        name: opts.name,
        orgId,
        createdBy: 'cli',
        expiresInDays: opts.expiresInDays,
        canCreateTokens: opts.canCreateTokens ?? false,
      });
      out.result(
        { ...created, orgId },
        () =>
          `Token ${created.id}, valid until ${created.expiresAt} (send as "Authorization: Bearer …"):\n${created.token}`,
      );
    },
  );
  appCommand<{ org?: string }>(
    tokens,
    'list',
    'list API tokens with their expiry and last use (never the tokens themselves)',
    (c) => c.option('--org <org>', "one organization's tokens (default: operator tokens)"),
    async ({ app, out, opts }) => {
      const list = await app.auth.listApiTokens(await orgIdOf(app, opts.org));
      out.result(list, () =>
        table(list, ['id', 'name', 'createdBy', 'createdAt', 'expiresAt', 'lastUsedAt', 'canCreateTokens']),
      );
    },
  );
  appCommand<{ id: string; org?: string }>(
    tokens,
    'revoke',
    'revoke an API token: anything using it is refused from now on',
    (c) =>
      c
        .requiredOption('--id <id>', 'the token id (from tokens list)')
        .option('--org <org>', 'the organization of the token (default: an operator token)'),
    async ({ app, out, opts }) => {
      await app.auth.revokeApiToken(opts.id, await orgIdOf(app, opts.org));
      out.result({ id: opts.id, revoked: true }, () => `Token ${opts.id} revoked.`);
    },
  );
}
