import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import type { App } from '../../src/services/app.js';
import { createTestApp } from '../support/app.js';
import { DATABASES } from '../support/databases.js';

type Purpose = 'user' | 'shared' | 'room' | 'equipment';

/** Adds a mailbox user; `enabled` false blocks its sign-in, as Exchange admins do for shared mailboxes. */
function addMailbox(emu: Emulator, domain: string, name: string, purpose: Purpose, enabled: boolean) {
  const address = `${name}@${domain}`;
  emu.tenant.addUser({
    displayName: name,
    userPrincipalName: address,
    mail: address,
    proxyAddresses: [`SMTP:${address}`],
    accountEnabled: enabled,
    mailboxSettings: { userPurpose: purpose },
  });
}

/**
 * Recipients as Exchange knows them, end to end: the emulator's shared, room and equipment
 * mailboxes with sign-in blocked, read through $batch by the real connector, synced into a real
 * database — with MailboxSettings.Read, and without it (the organization's rule decides).
 */
describe.each(DATABASES)('functional accounts on %s', (kind) => {
  let app: App;
  let close: () => Promise<void>;
  const emulators: Emulator[] = [];

  /** An organization on its own emulated tenant, connected with the named app registration. */
  async function connect(seed: number, appName: string): Promise<{ orgId: string; domain: string }> {
    const emu = await startEmulator({ users: 0, groups: 0, seed });
    emulators.push(emu);
    const [domain] = emu.info.tenantDomains as [string];
    addMailbox(emu, domain, 'info', 'shared', false);
    addMailbox(emu, domain, 'boardroom', 'room', false);
    addMailbox(emu, domain, 'projector', 'equipment', false);
    addMailbox(emu, domain, 'leaver', 'user', false);
    addMailbox(emu, domain, 'ann', 'user', true);
    const orgId = (await app.orgs.create({ name: domain, domains: [domain] }, 'test')).id;
    const registration = emu.info.apps.find((a) => a.displayName === appName)!;
    await app.entraSettings(orgId).set(
      {
        tenant: emu.info.tenantId,
        clientId: registration.clientId,
        clientSecret: registration.clientSecret,
        authorityHost: emu.info.authorityHost,
        graphUrl: emu.info.graphBaseUrl,
        caPem: emu.info.caPem,
      },
      { allowCustomEndpoints: true, byOperator: true },
      'test',
    );
    return { orgId, domain };
  }

  const users = async (orgId: string) => {
    const { items } = await (await app.directory(orgId)).listUsers({ limit: 100, offset: 0 });
    return Object.fromEntries(
      items.map((u) => [u.email.split('@')[0], [u.status, u.mailbox, u.canSignIn, u.billable]]),
    );
  };

  beforeAll(async () => {
    ({ app, close } = await createTestApp(kind));
  });
  afterAll(async () => {
    await close?.();
    await Promise.all(emulators.map((e) => e.close()));
  });

  it('with MailboxSettings.Read: shared, room and equipment stay deliverable, a blocked person is inactive', async () => {
    const { orgId } = await connect(71, 'entrasync-sync');
    const sync = await app.sync(orgId);
    const preview = await sync.preview({}, 'test');
    expect(preview.blockedSignIn).toEqual({ functional: 3, person: 1, rule: 0 });
    // Four purposes needed, one $batch request; the enabled user is never read.
    expect(preview.read.mailboxes).toMatchObject({
      needed: 4,
      read: 4,
      requests: 1,
      denied: false,
      unknown: [],
    });
    expect(preview.seats).toEqual({ before: 0, after: 1, licensed: null });
    const run = await sync.execute({ trigger: 'manual', planId: preview.planId }, 'test');
    expect(run.status).toBe('succeeded');
    expect(run.seats).toEqual({ before: 0, after: 1, licensed: null });
    expect(await users(orgId)).toEqual({
      ann: ['active', null, true, true],
      boardroom: ['active', 'room', false, false],
      info: ['active', 'shared', false, false],
      leaver: ['inactive', 'user', false, false],
      projector: ['active', 'equipment', false, false],
    });

    // Nothing changed: the next sync reads no purpose again.
    const again = await (await app.sync(orgId)).preview({}, 'test');
    expect(again.read.mode).toBe('delta');
    expect(again.read.mailboxes).toMatchObject({ needed: 0, requests: 0 });
    expect(again.usersToUpdate).toEqual([]);
  });

  it("without it the organization's rule decides, and the preview says why", async () => {
    const { orgId } = await connect(72, 'entrasync-directory-only');
    const delivered = await (await app.sync(orgId)).preview({}, 'test');
    expect(delivered.read.mailboxes).toMatchObject({ needed: 4, read: 0, requests: 0, denied: true });
    expect(delivered.blockedSignIn).toEqual({ functional: 0, person: 0, rule: 4 });
    expect(delivered.usersToAdd.map((c) => c.user.status)).toEqual(Array(5).fill('active'));

    await app
      .entraSettings(orgId)
      .set({ blockedMailboxes: 'reject' }, { allowCustomEndpoints: false, byOperator: false }, 'test');
    const rejected = await (await app.sync(orgId)).preview({}, 'test');
    expect(rejected.policy.blockedMailboxes).toBe('reject');
    expect(
      Object.fromEntries(rejected.usersToAdd.map((c) => [c.user.email.split('@')[0], c.user.status])),
    ).toEqual({
      ann: 'active',
      boardroom: 'inactive',
      info: 'inactive',
      leaver: 'inactive',
      projector: 'inactive',
    });
  });

  it('syncs a user whose Entra names hold a NUL or run past 256 characters, with clean names', async () => {
    const { orgId, domain } = await connect(74, 'entrasync-sync');
    const emu = emulators.at(-1)!;
    emu.tenant.addUser({
      displayName: 'Odd\u0000 Name',
      givenName: 'g'.repeat(100_000),
      userPrincipalName: `odd@${domain}`,
      mail: `odd@${domain}`,
      proxyAddresses: [
        `SMTP:odd@${domain}`,
        `smtp:n\u0000ul@${domain}`,
        `smtp:${'a'.repeat(10_000)}@${domain}`,
      ],
    });
    emu.tenant.addGroup({
      displayName: 'Team\u0000 One',
      mail: `team\u0000@${domain}`,
      mailEnabled: true,
      securityEnabled: false,
      proxyAddresses: [`SMTP:team\u0000@${domain}`],
    });
    const run = await (await app.sync(orgId)).execute({ trigger: 'manual' }, 'test');
    expect(run.status).toBe('succeeded');
    // What Entra sent that no column can hold is left out, each object named, never a failed sync.
    const skipped = (await (await app.sync(orgId)).preview({}, 'test')).skipped;
    expect(skipped.filter((e) => e.name === `odd@${domain}`).map((e) => e.reason)).toEqual([
      'alias_invalid',
      'alias_invalid',
    ]);
    expect(skipped.find((e) => e.name === 'Team One')?.reason).toBe('primary_invalid');
    const { items } = await (await app.directory(orgId)).listUsers({ limit: 10, offset: 0, search: 'odd@' });
    expect(items.map((u) => [u.displayName, u.firstName])).toEqual([['Odd Name', 'g'.repeat(256)]]);
  });

  it('counts seats against the licence', async () => {
    const { orgId } = await connect(73, 'entrasync-sync');
    await app.orgs.setLicensedSeats(orgId, 0, 'test');
    const preview = await (await app.sync(orgId)).preview({}, 'test');
    expect(preview.seats).toEqual({ before: 0, after: 1, licensed: 0 });
    await expect(app.orgs.setLicensedSeats(orgId, -1, 'test')).rejects.toMatchObject({
      code: 'invalid_input',
      field: 'licensedSeats',
    });
    await expect(app.orgs.setLicensedSeats(orgId, '10', 'test')).rejects.toMatchObject({
      field: 'licensedSeats',
    });
    expect((await app.orgs.get(orgId)).licensedSeats).toBe(0);
  });
});
