import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entrasync } from '../support/cli.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';

interface UserJson {
  id: string;
  email: string;
  aliases: string[];
  firstName: string | null;
  lastName: string | null;
  displayName: string | null;
  role: string;
  status: string;
  mailbox: string | null;
  source: string;
  externalId: string | null;
  exempt: boolean;
  functional: boolean;
  deliverable: boolean;
  canSignIn: boolean;
  receivesDigests: boolean;
  billable: boolean;
  signInRefusal: string | null;
}

describe.each(DATABASES)('entrasync CLI on %s', (kind) => {
  let db: TestDatabase;
  const run = (...args: string[]) => entrasync(args, db.env);

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(() => db.drop());

  it('migrates safely when two processes start at once', async () => {
    const [a, b] = await Promise.all([run('migrate', '--json'), run('migrate', '--json')]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(a.json()).toEqual({ migrated: true, database: kind });
  });

  it('creates and lists organizations; names them by id or domain', async () => {
    const created = await run(
      'org',
      'create',
      '--name',
      'Contoso',
      '--domain',
      'contoso.com',
      '--domain',
      'contoso.net',
      '--json',
    );
    expect(created.code).toBe(0);
    const org = created.json<{ id: string; domains: string[] }>();
    expect(org.domains).toEqual(['contoso.com', 'contoso.net']);
    const list = await run('org', 'list', '--json');
    expect(list.json<{ id: string }[]>().map((o) => o.id)).toEqual([org.id]);
    const added = await run('org', 'domains', 'add', '--org', org.id, '--domain', 'contoso.org', '--json');
    expect(added.json<{ domains: string[] }>().domains).toEqual([
      'contoso.com',
      'contoso.net',
      'contoso.org',
    ]);
    const removed = await run(
      'org',
      'domains',
      'remove',
      '--org',
      'contoso.com',
      '--domain',
      'contoso.org',
      '--json',
    );
    expect(removed.json<{ domains: string[] }>().domains).toEqual(['contoso.com', 'contoso.net']);
  });

  it('adds, lists and removes users with the documented JSON shape', async () => {
    const add = await run(
      'users',
      'add',
      '--org',
      'contoso.com',
      '--email',
      'Ann@Contoso.com',
      '--alias',
      'ann@contoso.net',
      '--role',
      'silent_user',
      '--first',
      'Ann',
      '--last',
      'Lee',
      '--json',
    );
    expect(add.code).toBe(0);
    const list = await run('users', 'list', '--org', 'contoso.com', '--json');
    const users = list.json<UserJson[]>();
    expect(users).toEqual([
      {
        id: expect.any(String),
        email: 'ann@contoso.com',
        aliases: ['ann@contoso.net'],
        firstName: 'Ann',
        lastName: 'Lee',
        displayName: 'Ann Lee',
        role: 'silent_user',
        status: 'active',
        mailbox: null,
        source: 'manual',
        externalId: null,
        exempt: false,
        // A silent user: mail is delivered and billed, but no console and no digests.
        functional: false,
        deliverable: true,
        canSignIn: false,
        receivesDigests: false,
        billable: true,
        signInRefusal: expect.stringMatching(/^Silent users cannot sign in/),
      },
    ]);
    await run('users', 'add', '--org', 'contoso.com', '--email', 'bob@contoso.com', '--json');
    const removed = await run(
      'users',
      'remove',
      '--org',
      'contoso.com',
      '--email',
      'bob@contoso.com',
      '--json',
    );
    expect(removed.code).toBe(0);
    const after = await run('users', 'list', '--org', 'contoso.com', '--json');
    expect(after.json<UserJson[]>().map((u) => u.email)).toEqual(['ann@contoso.com']);
  });

  it('adds groups with members and lists them with member addresses and nested group names', async () => {
    expect(
      (
        await run(
          'groups',
          'add',
          '--org',
          'contoso.com',
          '--name',
          'Admins',
          '--kind',
          'security',
          '--member',
          'ann@contoso.com',
        )
      ).code,
    ).toBe(0);
    const add = await run(
      'groups',
      'add',
      '--org',
      'contoso.com',
      '--name',
      'Everyone',
      '--kind',
      'distribution',
      '--email',
      'everyone@contoso.com',
      '--member',
      'ann@contoso.com',
      '--member',
      'Admins',
      '--json',
    );
    expect(add.code).toBe(0);
    const list = await run('groups', 'list', '--org', 'contoso.com', '--json');
    expect(list.json()).toEqual([
      {
        id: expect.any(String),
        name: 'Admins',
        kind: 'security',
        email: null,
        aliases: [],
        members: ['ann@contoso.com'],
        source: 'manual',
        externalId: null,
        exempt: false,
      },
      {
        id: expect.any(String),
        name: 'Everyone',
        kind: 'distribution',
        email: 'everyone@contoso.com',
        aliases: [],
        members: ['Admins', 'ann@contoso.com'],
        source: 'manual',
        externalId: null,
        exempt: false,
      },
    ]);
  });

  // Independent refusals: run them side by side (each is a child process).
  it.concurrent.each([
    [['org', 'create', '--name', 'Bad', '--domain', 'not_a_domain'], /not a valid domain/],
    [['org', 'create', '--name', 'Thief', '--domain', 'contoso.com'], /already belongs to an organization/],
    [['users', 'add', '--org', 'contoso.com', '--email', 'ann@contoso.com'], /already used/],
    [
      ['users', 'add', '--org', 'contoso.com', '--email', 'x@contoso.com', '--alias', 'x@elsewhere.com'],
      /not in one of the organization's domains/,
    ],
    [['users', 'add', '--org', 'nowhere.com', '--email', 'x@nowhere.com'], /No organization/],
    [
      ['users', 'add', '--org', 'contoso.com', '--email', 'x@contoso.com', '--role', 'king'],
      /Allowed choices/,
    ],
    [['users', 'add', '--org', 'contoso.com'], /--email/],
    [['groups', 'add', '--org', 'contoso.com', '--name', 'G', '--kind', 'club'], /Allowed choices/],
    [['users', 'list', '--org', 'contoso.com', '--bogus'], /unknown option/],
  ])('exits 2 with one line for bad input: %j', async (args, message) => {
    const result = await run(...args);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
  });

  it('writes nothing when input is refused', async () => {
    const list = await run('users', 'list', '--org', 'contoso.com', '--json');
    expect(list.json<UserJson[]>().map((u) => u.email)).toEqual(['ann@contoso.com']);
    const orgs = await run('org', 'list', '--json');
    expect(orgs.json<unknown[]>()).toHaveLength(1);
  });

  it('prints a JSON error object on bad input with --json', async () => {
    const result = await run('users', 'add', '--org', 'contoso.com', '--email', 'nope', '--json');
    expect(result.code).toBe(2);
    expect(result.json()).toEqual({
      error: { code: 'invalid_input', field: 'email', message: expect.stringContaining('nope') },
    });
  });

  it('exits 1 when the database cannot be reached', async () => {
    const result = await entrasync(['org', 'list'], { DATABASE_URL: 'postgres://nobody:x@127.0.0.1:1/none' });
    expect(result.code).toBe(1);
  });
});
