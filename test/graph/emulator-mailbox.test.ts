/**
 * Mailbox purposes against the emulator (medium tier: real MSAL, real TLS, the emulator's $batch
 * and Exchange answers): which users are read, what they are, how many requests it takes, and that
 * missing permissions, mailbox-less users and throttled items never fail the read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MailboxKind } from '../../src/directory/recipients.js';
import {
  type Emulator,
  type EmulatorApp,
  type GraphObject,
  startEmulator,
} from '../../src/emulator/index.js';
import { type GraphConnection, GraphConnector, type ReadResult } from '../../src/graph/index.js';

let emu: Emulator;
let domain: string;
const added: Record<string, GraphObject> = {};

const appNamed = (name: string): EmulatorApp => {
  const app = emu.info.apps.find((a) => a.displayName === name);
  if (!app) throw new Error(`the emulator generates no app named ${name}`);
  return app;
};

function connection(app: EmulatorApp): GraphConnection {
  return {
    tenant: domain,
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    cloud: 'global',
    authorityHost: emu.info.authorityHost,
    graphUrl: emu.info.graphBaseUrl,
    caPem: emu.info.caPem,
  };
}

const noWait = { sleep: async () => undefined };

async function readFull(app = appNamed('entrasync-sync')): Promise<ReadResult> {
  const c = new GraphConnector(connection(app), noWait);
  try {
    return await c.readFull();
  } finally {
    await c.close();
  }
}

const strs = (v: unknown) => (Array.isArray(v) ? (v as string[]) : []);
/** The connector reads a purpose for a user whose sign-in is blocked and who has a mail or primary address. */
const needsRead = (u: GraphObject) =>
  u.accountEnabled === false &&
  ((typeof u.mail === 'string' && u.mail.trim() !== '') ||
    strs(u.proxyAddresses).some((p) => p.startsWith('SMTP:')));
/** Exchange has a mailbox for a member with an SMTP proxy address (docs/emulator.md); it defaults to 'user'. */
const exchangeMailbox = (u: GraphObject) =>
  u.userType !== 'Guest' && strs(u.proxyAddresses).some((p) => p.toLowerCase().startsWith('smtp:'));
const purposeOf = (u: GraphObject): MailboxKind =>
  ((u.mailboxSettings as { userPurpose?: MailboxKind } | undefined)?.userPurpose ?? 'user') as MailboxKind;

/** What a read with MailboxSettings.Read must find: the purpose of each user that needs one, else null. */
function expectedMailboxes(): Map<string, MailboxKind | null> {
  return new Map(
    emu.tenant
      .listUsers()
      .map((u) => [u.id, needsRead(u) && exchangeMailbox(u) ? purposeOf(u) : null] as const),
  );
}

beforeAll(async () => {
  emu = await startEmulator({ port: 0, users: 300, groups: 10, seed: 7, throttle: false });
  domain = emu.info.tenantDomains[0]!;
  added.shared = emu.tenant.addUser({
    displayName: 'Billing',
    userPrincipalName: `billing@${domain}`,
    mail: `billing@${domain}`,
    proxyAddresses: [`SMTP:billing@${domain}`],
    accountEnabled: false,
    userType: 'Member',
    mailboxSettings: { userPurpose: 'shared' },
  });
  added.room = emu.tenant.addUser({
    displayName: 'Room 1',
    userPrincipalName: `room1@${domain}`,
    mail: `room1@${domain}`,
    proxyAddresses: [`SMTP:room1@${domain}`],
    accountEnabled: false,
    userType: 'Member',
    mailboxSettings: { userPurpose: 'room' },
  });
  added.leaver = emu.tenant.addUser({
    displayName: 'Left Company',
    userPrincipalName: `leaver@${domain}`,
    mail: `leaver@${domain}`,
    proxyAddresses: [`SMTP:leaver@${domain}`],
    accountEnabled: false,
    userType: 'Member',
  });
  // `mail` without an SMTP proxy address: a directory value Exchange has no mailbox for.
  added.mailOnly = emu.tenant.addUser({
    displayName: 'Mail Only',
    userPrincipalName: `mailonly@${domain}`,
    mail: `mailonly@${domain}`,
    proxyAddresses: [],
    accountEnabled: false,
    userType: 'Member',
  });
  added.enabledShared = emu.tenant.addUser({
    displayName: 'Reception',
    userPrincipalName: `reception@${domain}`,
    mail: `reception@${domain}`,
    proxyAddresses: [`SMTP:reception@${domain}`],
    accountEnabled: true,
    userType: 'Member',
    mailboxSettings: { userPurpose: 'shared' },
  });
});
afterAll(() => emu?.close());

describe('mailbox purposes against the emulator', () => {
  let first: ReadResult;

  it('a full read finds the purpose of every blocked mailbox, in ceil(needed / 20) $batch requests', async () => {
    emu.resetStats();
    first = await readFull();
    const expected = expectedMailboxes();
    const got = new Map(first.snapshot.users.map((u) => [u.externalId, u.mailbox]));
    expect(got).toEqual(expected);
    expect(got.get(added.shared!.id)).toBe('shared');
    expect(got.get(added.room!.id)).toBe('room');
    expect(got.get(added.leaver!.id)).toBe('user');
    expect(got.get(added.mailOnly!.id)).toBeNull();
    // Sign-in allowed: not read, whatever Exchange would say.
    expect(got.get(added.enabledShared!.id)).toBeNull();

    const users = emu.tenant.listUsers();
    const needed = users.filter(needsRead);
    const unknown = needed
      .filter((u) => !exchangeMailbox(u))
      .map((u) => u.id)
      .sort();
    expect(needed.length).toBeGreaterThan(20);
    expect(first.mailboxes).toEqual({
      needed: needed.length,
      read: needed.length - unknown.length,
      unknown,
      denied: false,
      requests: Math.ceil(needed.length / 20),
      issues: [
        {
          cause: 'no_exchange_mailbox',
          users: unknown.length,
          detail: expect.stringContaining('MailboxNotEnabledForRESTAPI'),
        },
      ],
    });
    expect(first.stats.requests).toBe(first.stats.pages + first.mailboxes.requests);
    // Never one request per user: only $batch items reach the mailbox settings.
    const byPath = emu.stats().byPath;
    expect(byPath['POST /v1.0/$batch']).toBe(first.mailboxes.requests);
    expect(byPath['GET /v1.0/users/{id}/mailboxSettings/userPurpose ($batch)']).toBe(needed.length);
    expect(byPath['GET /v1.0/users/{id}/mailboxSettings/userPurpose']).toBeUndefined();
  });

  it('a delta read with nothing changed reads only the unknown ones again, and finds no change', async () => {
    const c = new GraphConnector(connection(appNamed('entrasync-sync')), noWait);
    const delta = await c.readChanges(first);
    await c.close();
    expect(delta.mode).toBe('delta');
    expect(delta.snapshot).toEqual(first.snapshot);
    expect(delta.changes).toBe(0);
    expect(delta.mailboxes).toMatchObject({
      needed: first.mailboxes.unknown.length,
      read: 0,
      unknown: first.mailboxes.unknown,
      requests: Math.ceil(first.mailboxes.unknown.length / 20),
    });
  });

  it('a delta read after a person is blocked reads that one, and matches a fresh full read', async () => {
    const person = emu.tenant.addUser({
      displayName: 'Soon Blocked',
      userPrincipalName: `soon.blocked@${domain}`,
      mail: `soon.blocked@${domain}`,
      proxyAddresses: [`SMTP:soon.blocked@${domain}`],
      accountEnabled: true,
      userType: 'Member',
    });
    const c = new GraphConnector(connection(appNamed('entrasync-sync')), noWait);
    const before = await c.readChanges(first);
    emu.tenant.updateUser(person.id, { accountEnabled: false });
    const delta = await c.readChanges(before);
    await c.close();
    expect(delta.snapshot.users.find((u) => u.externalId === person.id)?.mailbox).toBe('user');
    expect(delta.mailboxes.needed).toBe(before.mailboxes.unknown.length + 1);
    expect(delta.changes).toBeGreaterThanOrEqual(1);
    expect(delta.snapshot).toEqual((await readFull()).snapshot);
  });

  it('items throttled inside a $batch (429 + Retry-After) are retried alone: the same result', async () => {
    emu.failNext({
      on: 'batch-item',
      status: 429,
      retryAfter: 1,
      count: 3,
      urlContains: '/mailboxSettings/userPurpose',
    });
    const result = await readFull();
    expect(result.snapshot).toEqual((await readFull()).snapshot);
    const batches = Math.ceil(result.mailboxes.needed / 20);
    expect(result.mailboxes.requests).toBeGreaterThan(batches);
    expect(result.mailboxes.requests).toBeLessThanOrEqual(batches + 3);
    expect(result.stats.throttled).toBeGreaterThanOrEqual(3);
    expect(result.mailboxes.unknown).toEqual(expectedUnknown());
  });

  it('one mailbox denied (403 ErrorAccessDenied) among purposes read: that user unknown, the rest read', async () => {
    emu.failNext({ on: 'batch-item', status: 403, code: 'ErrorAccessDenied', urlContains: added.room!.id });
    const result = await readFull();
    expect(result.snapshot.users.find((u) => u.externalId === added.room!.id)?.mailbox).toBeNull();
    expect(result.snapshot.users.find((u) => u.externalId === added.shared!.id)?.mailbox).toBe('shared');
    expect(result.mailboxes.denied).toBe(false);
    expect(result.mailboxes.unknown).toEqual([...expectedUnknown(), added.room!.id].sort());
    expect(result.mailboxes.issues).toContainEqual(
      expect.objectContaining({ cause: 'mailbox_access_denied', users: 1 }),
    );
  });

  it('an app without MailboxSettings.Read: the read succeeds, no $batch is sent, the needed users are unknown', async () => {
    emu.resetStats();
    const result = await readFull(appNamed('entrasync-directory-only'));
    const needed = emu.tenant.listUsers().filter(needsRead);
    expect(result.snapshot.users.every((u) => u.mailbox === null)).toBe(true);
    expect(result.mailboxes).toMatchObject({ needed: needed.length, read: 0, denied: true, requests: 0 });
    expect(result.mailboxes.unknown).toHaveLength(needed.length);
    expect(emu.stats().byPath['POST /v1.0/$batch']).toBeUndefined();
  });

  it('diagnose: the mailboxes step says granted for entrasync-sync, and how to grant it otherwise', async () => {
    const granted = new GraphConnector(connection(appNamed('entrasync-sync')), noWait);
    const ok = await granted.diagnose();
    await granted.close();
    expect(ok.ok).toBe(true);
    expect(ok.steps.find((s) => s.step === 'mailboxes')).toMatchObject({
      ok: true,
      message: expect.stringContaining('MailboxSettings.Read is granted'),
    });

    const directoryOnly = new GraphConnector(connection(appNamed('entrasync-directory-only')), noWait);
    const without = await directoryOnly.diagnose();
    await directoryOnly.close();
    expect(without.ok).toBe(true);
    const step = without.steps.find((s) => s.step === 'mailboxes');
    expect(step?.message).toContain('MailboxSettings.Read is not granted');
    expect(step?.hint).toContain('MailboxSettings.Read, then grant admin consent');
    expect(step?.hint).toContain(without.consentUrl);

    // No consent at all: the report fails on the directory steps, never on this one.
    const none = new GraphConnector(connection(appNamed('entrasync-no-consent')), noWait);
    const failed = await none.diagnose();
    await none.close();
    expect(failed.ok).toBe(false);
    expect(failed.steps.find((s) => s.step === 'mailboxes')).toMatchObject({ ok: true });
  });
});

/** Needed users Exchange has no mailbox for, as the tenant is now. */
function expectedUnknown(): string[] {
  return emu.tenant
    .listUsers()
    .filter((u) => needsRead(u) && !exchangeMailbox(u))
    .map((u) => u.id)
    .sort();
}
