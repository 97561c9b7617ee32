import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { buildServer } from '../../src/http/server.js';
import type { App } from '../../src/services/app.js';
import { connectOrg, createJobsApp } from '../jobs/support.js';
import { entrasync } from '../support/cli.js';
import { DATABASES } from '../support/databases.js';

/**
 * Skipped entries by reason through the API, on both databases: counts per reason code in the
 * preview, the plan reader and the run; the tenant's own onmicrosoft.com aliases counted on one
 * line instead of listed; the plan reader's reason filter.
 */
describe.each(DATABASES)('skipped by reason on %s', (kind) => {
  let emu: Emulator;
  let app: App;
  let close: () => Promise<void>;
  let server: FastifyInstance;
  let token: string;
  let orgId: string;
  let env: Record<string, string>;
  const domain = 'skip.example';

  const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
    server.inject({
      method,
      url: `/api/v1/orgs/${orgId}${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });

  beforeAll(async () => {
    emu = await startEmulator({ users: 0, groups: 0, seed: 72 });
    // Every Exchange Online mailbox carries the tenant's onmicrosoft.com (and often the routing
    // domain's) alias; the organization owns only skip.example.
    for (let i = 0; i < 4; i++) {
      const address = `user${i}@${domain}`;
      emu.tenant.addUser({
        displayName: `User ${i}`,
        userPrincipalName: address,
        mail: address,
        proxyAddresses: [
          `SMTP:${address}`,
          `smtp:user${i}@skip.onmicrosoft.com`,
          `smtp:user${i}@skip.mail.onmicrosoft.com`,
          ...(i === 0 ? ['smtp:user0@elsewhere.example'] : []),
        ],
      });
    }
    for (const name of ['guest1', 'guest2']) {
      emu.tenant.addUser({
        displayName: name,
        userPrincipalName: `${name}_partner.example#EXT#@skip.onmicrosoft.com`,
        mail: `${name}@partner.example`,
        userType: 'Guest',
      });
    }
    let db: Awaited<ReturnType<typeof createJobsApp>>['db'];
    ({ app, close, db } = await createJobsApp(kind));
    env = { ...db.env, ENTRASYNC_ALLOW_CUSTOM_CLOUD: '1' };
    server = await buildServer(app);
    orgId = await connectOrg(app, emu, domain, { frequencyHours: null });
    token = (await app.auth.createApiToken({ name: 'test', orgId, createdBy: 'test' })).token;
  });
  afterAll(async () => {
    await server?.close();
    await close?.();
    await emu?.close();
  });

  it('counts skipped entries per reason, counts the initial-domain aliases on one line, and filters by reason', async () => {
    const made = await call('POST', '/sync/preview', {});
    expect(made.statusCode, made.body).toBe(200);
    const preview = made.json();
    expect(preview.usersToAdd).toHaveLength(4);
    // 4 users × 2 aliases in the tenant's own domains: left out, counted, not listed.
    expect(preview.expectedLeftOut).toEqual({ initialDomainAliases: 8 });
    expect(preview.skipped.map((s: { reason: string }) => s.reason).sort()).toEqual([
      'alias_foreign_domain',
      'guest',
      'guest',
    ]);
    expect(preview.skippedByReason).toMatchObject({ guest: 2, alias_foreign_domain: 1, exempt: 0 });

    const all = (await call('GET', `/sync/plans/${preview.planId}?category=skipped`)).json();
    expect(all).toMatchObject({
      skippedByReason: preview.skippedByReason,
      expectedLeftOut: { initialDomainAliases: 8 },
      counts: { skipped: 3 },
      page: { category: 'skipped', reason: null, total: 3 },
    });
    const guests = (await call('GET', `/sync/plans/${preview.planId}?category=skipped&reason=guest`)).json();
    expect(guests.page).toMatchObject({ category: 'skipped', reason: 'guest', total: 2 });
    expect(guests.page.items.every((s: { reason: string }) => s.reason === 'guest')).toBe(true);
    // The counts stay those of the whole plan; the filter narrows the page only.
    expect(guests.counts.skipped).toBe(3);
    const searched = (
      await call('GET', `/sync/plans/${preview.planId}?category=skipped&reason=guest&search=guest2`)
    ).json();
    expect(searched.page.total).toBe(1);

    const unknown = await call('GET', `/sync/plans/${preview.planId}?category=skipped&reason=onmicrosoft`);
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.field).toBe('reason');
    expect(unknown.json().error.message).toContain('onmicrosoft');
    expect(unknown.json().error.message).toContain('alias_foreign_domain');
    const wrongCategory = await call('GET', `/sync/plans/${preview.planId}?category=usersToAdd&reason=guest`);
    expect(wrongCategory.statusCode).toBe(400);
    expect(wrongCategory.json().error.field).toBe('reason');

    const run = await call('POST', '/sync/execute', { planId: preview.planId });
    expect(run.statusCode, run.body).toBe(200);
    expect(run.json()).toMatchObject({
      status: 'succeeded',
      skipped: 3,
      skippedByReason: { guest: 2, alias_foreign_domain: 1 },
      expectedLeftOut: { initialDomainAliases: 8 },
    });
    const record = (await call('GET', `/sync/runs/${run.json().runId}`)).json();
    expect(record.summary).toMatchObject({
      skippedByReason: { guest: 2, alias_foreign_domain: 1 },
      expectedLeftOut: { initialDomainAliases: 8 },
    });
    const users = (await (await app.directory(orgId)).listUsers({ limit: 50, offset: 0 })).items;
    expect(users.map((u) => u.aliases)).toEqual([[], [], [], []]);

    // Nothing changed since: the plan is known without planning, with the same counts.
    const again = (await call('POST', '/sync/preview', {})).json();
    expect(again.read.mode).toBe('delta');
    expect(again.expectedLeftOut).toEqual({ initialDomainAliases: 8 });
    expect(again.skippedByReason).toEqual(preview.skippedByReason);

    // The CLI's dry run: one line per reason that occurs, and the expected line.
    const dry = await entrasync(['sync', '--org', domain, '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('  skipped: 3\n    guest: 2\n    alias_foreign_domain: 1\n');
    expect(dry.stdout).not.toContain('exempt: 0');
    expect(dry.stdout).toContain(
      "  left out, as expected: 8 aliases in the tenant's own onmicrosoft.com domains",
    );
  });
});
