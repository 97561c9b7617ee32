import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import type { App } from '../../src/services/app.js';
import type { Preview } from '../../src/services/sync.js';
import { connectToEmulator, createTestApp } from '../support/app.js';
import { DATABASES } from '../support/databases.js';

/**
 * The sync engine end to end: the real emulator over HTTPS (MSAL tokens, Graph paging and delta)
 * into a real SQLite and PostgreSQL database, through the services the CLI and API use.
 */
describe.each(DATABASES)('sync engine on %s', (kind) => {
  let app: App;
  let close: () => Promise<void>;
  let emu: Emulator;
  let orgId: string;
  let domain: string;
  let other: string;

  const sync = async () => app.sync(orgId);
  const preview = async (how = 'all') => (await sync()).preview({ how: parseHowWords(how) }, 'test');
  const executeAll = async (how = 'all') =>
    (await sync()).execute({ trigger: 'manual', how: parseHowWords(how) }, 'test');
  const dir = () => app.directory(orgId);
  const userByAddress = async (address: string) => {
    const d = await dir();
    const { items } = await d.listUsers({ limit: 10, offset: 0, search: address });
    return items.find((u) => u.email === address);
  };
  /** The directory as a comparable value (ids differ between runs; addresses and names do not). */
  const directoryState = async () => {
    const d = await dir();
    const users = (await d.listUsers({ limit: 100_000, offset: 0 })).items.map(({ id: _id, ...u }) => u);
    const groups = (await d.listGroups({ limit: 100_000, offset: 0 })).items.map(({ id: _id, ...g }) => g);
    return { users, groups };
  };
  const sizeOf = (p: Preview) =>
    p.usersToAdd.length +
    p.usersToUpdate.length +
    p.usersToRemove.length +
    p.groupsToAdd.length +
    p.groupsToUpdate.length +
    p.groupsToRemove.length;

  beforeAll(async () => {
    // Small delta pages so that even this small tenant is read in several requests.
    emu = await startEmulator({
      users: 60,
      groups: 10,
      seed: 11,
      faultRetryAfter: 0.02,
      deltaPageSize: 20,
      deltaMembersPerPage: 50,
    });
    ({ app, close } = await createTestApp(kind));
    [domain, other] = emu.info.tenantDomains as [string, string];
    // The organization owns the tenant's first two domains; the third (onmicrosoft) is foreign.
    orgId = (await app.orgs.create({ name: 'Emulated', domains: [domain, other] }, 'test')).id;
    await connectToEmulator(app, orgId, emu, domain);
    // Objects whose fate each test checks, beside the generated ones.
    emu.tenant.addUser({
      id: '00000000-0000-4000-8000-000000000001',
      displayName: 'Rule Person',
      givenName: 'Rule',
      surname: 'Person',
      userPrincipalName: `rule@${domain}`,
      mail: `rule@${domain}`,
      proxyAddresses: [
        `SMTP:rule@${domain}`,
        `smtp:r.person@${other}`,
        `smtp:rule@elsewhere.example`,
        'X500:/o=x/cn=rule',
        `SIP:rule@${domain}`,
      ],
    });
    emu.tenant.addUser({
      id: '00000000-0000-4000-8000-000000000002',
      displayName: 'A Guest',
      userPrincipalName: `guest_partner.example#EXT#@${domain}`,
      mail: 'guest@partner.example',
      userType: 'Guest',
    });
  });
  afterAll(async () => {
    await close();
    await emu.close();
  });

  it('runs a first sync: users with aliases, default role, foreign aliases skipped with a warning, guests left out', async () => {
    const result = await executeAll('add-users,update-users,add-groups,update-groups');
    expect(result.status).toBe('succeeded');
    expect(result.applied.usersToAdd).toBeGreaterThan(40);
    const rule = await userByAddress(`rule@${domain}`);
    expect(rule).toMatchObject({
      aliases: [`r.person@${other}`],
      firstName: 'Rule',
      lastName: 'Person',
      role: 'end_user',
      status: 'active',
      source: 'entra',
      externalId: '00000000-0000-4000-8000-000000000001',
    });
    expect(await userByAddress('guest@partner.example')).toBeUndefined();
    const runs = await (await sync()).runs();
    expect(runs[0]!.summary).not.toHaveProperty('skippedEntries');
    const summary = (await (await sync()).run(runs[0]!.id)).summary as {
      skippedEntries: { reason: string; address?: string }[];
    };
    expect(summary.skippedEntries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ reason: 'alias_foreign_domain', address: 'rule@elsewhere.example' }),
        expect.objectContaining({ reason: 'guest' }),
      ]),
    );
  });

  it('plans nothing when nothing changed (delta)', async () => {
    const p = await preview();
    expect(p.read.mode).toBe('delta');
    expect(sizeOf(p)).toBe(0);
  });

  it('turns a rename into one update, and follows aliases added and removed', async () => {
    emu.tenant.updateUser('00000000-0000-4000-8000-000000000001', {
      mail: `rule.renamed@${domain}`,
      proxyAddresses: [`SMTP:rule.renamed@${domain}`, `smtp:rule@${domain}`, `smtp:new.alias@${domain}`],
    });
    const p = await preview();
    expect(sizeOf(p)).toBe(1);
    expect(p.usersToUpdate[0]).toMatchObject({
      externalId: '00000000-0000-4000-8000-000000000001',
      before: { email: `rule@${domain}`, aliases: [`r.person@${other}`] },
      after: { email: `rule.renamed@${domain}`, aliases: [`new.alias@${domain}`, `rule@${domain}`] },
    });
    // The old primary address is now an alias of the same user: allowed, the user holds it already.
    const run = await (await sync()).execute({ trigger: 'manual', planId: p.planId }, 'test');
    expect(run.applied.usersToUpdate).toBe(1);
    const renamed = await userByAddress(`rule.renamed@${domain}`);
    expect(renamed?.aliases).toEqual([`new.alias@${domain}`, `rule@${domain}`]);

    emu.tenant.updateUser('00000000-0000-4000-8000-000000000001', {
      proxyAddresses: [`SMTP:rule.renamed@${domain}`],
    });
    await executeAll();
    expect((await userByAddress(`rule.renamed@${domain}`))?.aliases).toEqual([]);
  });

  it('makes a disabled account inactive, not removed', async () => {
    emu.tenant.updateUser('00000000-0000-4000-8000-000000000001', { accountEnabled: false });
    await executeAll();
    expect((await userByAddress(`rule.renamed@${domain}`))?.status).toBe('inactive');
  });

  it('removes a deleted user only with Remove Deleted Users on', async () => {
    const victim = emu.tenant
      .listUsers()
      .find(
        (u) =>
          u.userType === 'Member' &&
          u.accountEnabled &&
          String(u.mail ?? '').endsWith(`@${domain}`) &&
          u.id !== '00000000-0000-4000-8000-000000000001',
      )!;
    const address = String(victim.mail).toLowerCase();
    expect(await userByAddress(address)).toBeDefined();
    emu.tenant.deleteUser(String(victim.id));
    const without = await executeAll('add-users,update-users,add-groups,update-groups');
    expect(without.applied.usersToRemove).toBe(0);
    expect(await userByAddress(address)).toBeDefined();
    const withRemoval = await executeAll('all');
    expect(withRemoval.applied.usersToRemove).toBe(1);
    expect(await userByAddress(address)).toBeUndefined();
  });

  it('classifies each group type and keeps nested membership with effective members', async () => {
    const rule = '00000000-0000-4000-8000-000000000001';
    const m365 = emu.tenant.addGroup({
      displayName: 'M365 Team',
      mail: `m365@${domain}`,
      mailEnabled: true,
      securityEnabled: false,
      groupTypes: ['Unified'],
      members: [rule],
    });
    const dl = emu.tenant.addGroup({
      displayName: 'A List',
      mail: `list@${domain}`,
      mailEnabled: true,
      securityEnabled: false,
    });
    const mes = emu.tenant.addGroup({
      displayName: 'Mail Sec',
      mail: `mailsec@${domain}`,
      mailEnabled: true,
      securityEnabled: true,
      members: [String(m365.id)],
    });
    const sec = emu.tenant.addGroup({
      displayName: 'Plain Sec',
      mailEnabled: false,
      securityEnabled: true,
      members: [String(mes.id)],
    });
    await executeAll();
    const groups = (await (await dir()).listGroups({ limit: 1000, offset: 0 })).items;
    const byName = (n: string) => groups.find((g) => g.name === n)!;
    expect(byName('M365 Team')).toMatchObject({
      kind: 'distribution',
      email: `m365@${domain}`,
      members: [`rule.renamed@${domain}`],
    });
    expect(byName('A List')).toMatchObject({ kind: 'distribution', email: `list@${domain}` });
    expect(byName('Mail Sec')).toMatchObject({
      kind: 'security',
      email: `mailsec@${domain}`,
      members: [`m365@${domain}`],
    });
    expect(byName('Plain Sec')).toMatchObject({
      kind: 'security',
      email: null,
      members: [`mailsec@${domain}`],
    });
    const detail = await (await dir()).getGroup(byName('Plain Sec').id);
    expect(detail.effectiveMembers).toEqual([`rule.renamed@${domain}`]);
    void dl;
    void sec;
  });

  it('leaves an exempt user untouched', async () => {
    const user = (await userByAddress(`rule.renamed@${domain}`))!;
    await (await dir()).updateUser(user.id, { exempt: true }, 'test');
    emu.tenant.updateUser('00000000-0000-4000-8000-000000000001', { displayName: 'Should Not Arrive' });
    const p = await preview();
    expect(p.usersToUpdate).toEqual([]);
    expect(p.skipped).toEqual(expect.arrayContaining([expect.objectContaining({ reason: 'exempt' })]));
    await (await sync()).execute({ trigger: 'manual', planId: p.planId }, 'test');
    expect((await userByAddress(`rule.renamed@${domain}`))?.displayName).not.toBe('Should Not Arrive');
    await (await dir()).updateUser(user.id, { exempt: false }, 'test');
  });

  it('applies exactly the ticked changes; the unticked ones are planned again with the same ids', async () => {
    const added = [1, 2, 3].map((i) =>
      emu.tenant.addUser({
        displayName: `New ${i}`,
        userPrincipalName: `new${i}@${domain}`,
        mail: `new${i}@${domain}`,
      }),
    );
    const group = emu.tenant.addGroup({
      displayName: 'Newcomers',
      mail: `newcomers@${domain}`,
      mailEnabled: true,
      securityEnabled: false,
    });
    const p = await preview();
    const newUsers = p.usersToAdd.filter((c) => c.address?.startsWith('new'));
    expect(newUsers).toHaveLength(3);
    const untickedUser = newUsers[0]!;
    const untickedGroup = p.groupsToAdd.find((c) => c.externalId === group.id)!;
    const run = await (await sync()).execute(
      { trigger: 'manual', planId: p.planId, excludedChangeIds: [untickedUser.id, untickedGroup.id] },
      'test',
    );
    expect(run.excluded).toBe(2);
    expect(run.applied.usersToAdd).toBe(p.usersToAdd.length - 1);
    expect(await userByAddress(untickedUser.address!)).toBeUndefined();
    for (const c of newUsers.slice(1)) expect(await userByAddress(c.address!)).toBeDefined();
    const again = await preview();
    expect(again.usersToAdd.map((c) => c.id)).toEqual([untickedUser.id]);
    expect(again.groupsToAdd.map((c) => c.externalId)).toEqual([group.id]);
    void added;
    await executeAll();
  });

  it('reports a change whose object changed since the preview as a conflict, not forced', async () => {
    emu.tenant.updateUser('00000000-0000-4000-8000-000000000001', { displayName: 'Entra Name' });
    const p = await preview();
    expect(p.usersToUpdate).toHaveLength(1);
    const user = (await userByAddress(`rule.renamed@${domain}`))!;
    await (await dir()).updateUser(user.id, { displayName: 'Hand Edit' }, 'test');
    const run = await (await sync()).execute({ trigger: 'manual', planId: p.planId }, 'test');
    expect(run.status).toBe('completed_with_conflicts');
    expect(run.conflicts).toEqual([
      { changeId: p.usersToUpdate[0]!.id, message: expect.stringContaining('changed') },
    ]);
    expect((await userByAddress(`rule.renamed@${domain}`))?.displayName).toBe('Hand Edit');
    await executeAll();
    expect((await userByAddress(`rule.renamed@${domain}`))?.displayName).toBe('Entra Name');
  });

  it('gets the same directory from a delta as from a full read, also after the delta link expired', async () => {
    // Mutations read by delta …
    const someone = emu.tenant
      .listUsers()
      .find((u) => u.userType === 'Member' && String(u.mail ?? '').endsWith(`@${other}`))!;
    emu.tenant.updateUser(String(someone.id), { surname: 'Delta' });
    const groups = emu.tenant.listGroups();
    emu.tenant.addMember(String(groups[0]!.id), '00000000-0000-4000-8000-000000000001');
    await executeAll();
    const afterDelta = await directoryState();
    // … equal what a full read finds: the delta link expires, the read is full, nothing changes.
    emu.tenant.expireDeltaTokens();
    const p = await preview();
    expect(p.read.mode).toBe('full-after-expired-delta');
    expect(sizeOf(p)).toBe(0);
    await (await sync()).execute({ trigger: 'manual', planId: p.planId }, 'test');
    expect(await directoryState()).toEqual(afterDelta);
  });

  it('gives an identical result with 10 % of Graph requests failing', async () => {
    const before = await directoryState();
    emu.setFaultRate(0.1);
    emu.resetStats();
    try {
      // A small tenant is read in few requests: read it fully (expired delta) until faults hit.
      for (let attempt = 0; attempt < 10 && emu.stats().faults === 0; attempt++) {
        emu.tenant.expireDeltaTokens();
        const run = await executeAll();
        expect(run.status).toBe('succeeded');
        expect(await directoryState()).toEqual(before);
      }
    } finally {
      emu.setFaultRate(0);
    }
    expect(emu.stats().faults).toBeGreaterThan(0);
  });

  it('explains a missing permission and writes nothing', async () => {
    const noConsent = emu.info.apps.find((a) => a.displayName === 'entrasync-no-consent')!;
    await app
      .entraSettings(orgId)
      .set(
        { clientId: noConsent.clientId, clientSecret: noConsent.clientSecret },
        { allowCustomEndpoints: true, byOperator: true },
        'test',
      );
    try {
      const report = await app.testConnection(orgId);
      expect(report.ok).toBe(false);
      const failed = report.steps.find((s) => s.code === 'permission_denied')!;
      expect(failed.message).toContain('Insufficient privileges to complete the operation.');
      expect(failed.hint).toMatch(/User\.Read\.All/);
      expect(failed.hint).toMatch(/admin consent/i);
      expect(failed.hint).toContain('adminconsent?client_id=');
      const before = await directoryState();
      emu.tenant.addUser({
        displayName: 'Blocked',
        userPrincipalName: `blocked@${domain}`,
        mail: `blocked@${domain}`,
      });
      const run = await executeAll();
      expect(run.status).toBe('failed');
      expect(run.errors[0]).toMatchObject({ code: 'permission_denied' });
      expect(await directoryState()).toEqual(before);
    } finally {
      const syncApp = emu.info.apps.find((a) => a.displayName === 'entrasync-sync')!;
      await app
        .entraSettings(orgId)
        .set(
          { clientId: syncApp.clientId, clientSecret: syncApp.clientSecret },
          { allowCustomEndpoints: true, byOperator: true },
          'test',
        );
    }
  });

  it('refuses a malformed Graph payload with an error and writes nothing', async () => {
    await executeAll();
    const before = await directoryState();
    emu.tenant.addUser({
      displayName: 'Broken',
      userPrincipalName: `broken@${domain}`,
      mail: `broken@${domain}`,
      accountEnabled: 'yes' as unknown as boolean,
    });
    emu.tenant.addUser({ displayName: 'Fine', userPrincipalName: `fine@${domain}`, mail: `fine@${domain}` });
    const run = await executeAll();
    expect(run.status).toBe('failed');
    expect(run.errors[0]).toMatchObject({ code: 'malformed_payload' });
    expect(await directoryState()).toEqual(before);
  });
});

function parseHowWords(words: string) {
  const all = ['add-users', 'update-users', 'add-groups', 'update-groups', 'remove-users', 'remove-groups'];
  const on = new Set(words === 'all' ? all : words.split(','));
  return {
    addUsers: on.has('add-users'),
    updateUsers: on.has('update-users'),
    addGroups: on.has('add-groups'),
    updateGroups: on.has('update-groups'),
    removeUsers: on.has('remove-users'),
    removeGroups: on.has('remove-groups'),
  };
}
