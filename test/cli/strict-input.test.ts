import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entrasync } from '../support/cli.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';

/*
 * The CLI calls the services directly, past the API's checks, so it refuses the same input
 * itself, through the real command line: a control character in any flag or in a secret or file
 * it reads, and a number beyond what its setting holds — exit 2, one line naming the flag, never
 * the value, nothing written. The tests run one after another: each is a child process, and
 * several at once on a busy machine outlast the test timeout.
 */

const PASSWORD = 'correct horse battery staple';
/** The password with a NUL in it (the word "battery" must never be printed). */
const WITH_NUL = `correct \u0000horse battery staple`;
const files = mkdtempSync(join(tmpdir(), 'entrasync-strict-'));
afterAll(() => rmSync(files, { recursive: true, force: true }));

/** A file holding `text`, for the flags that read one. */
function fileWith(name: string, text: string): string {
  const path = join(files, name);
  writeFileSync(path, text);
  return path;
}

describe('numbers out of range are refused before anything opens', () => {
  // Never created: a refused command opens no database.
  const env = { DATA_DIR: join(files, 'never'), DATABASE_URL: '' };

  it.each([
    [['worker', '--concurrency', '0'], '--concurrency must be a whole number from 1 to 100, not "0"'],
    [['worker', '--concurrency', '1.5'], '--concurrency must be a whole number from 1 to 100, not "1.5"'],
    [
      ['worker', '--metrics-port', '65536'],
      '--metrics-port must be a port number from 0 to 65535, not "65536"',
    ],
    [['serve', '--port', '-1'], '--port must be a port number from 0 to 65535, not "-1"'],
    [
      ['automation', 'set', '--org', 'contoso.com', '--safeguard-min-users', '2147483648'],
      '--safeguard-min-users must be a whole number of users from 1 to 2147483647, not "2147483648"',
    ],
    [
      ['tokens', 'create', '--name', 'ci', '--expires-in-days', '1e3'],
      '--expires-in-days must be a whole number of days from 1 to 365, not "1e3"',
    ],
  ])('%j', async (args, message) => {
    const result = await entrasync(args, env);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`entrasync: ${message}.\n`);
    expect(() => statSync(env.DATA_DIR)).toThrow();
  });

  it('shows a control character that a refusal quotes as an escape, not as itself', async () => {
    const result = await entrasync(['users', 'list', '--org', 'contoso.com', '--col\u001b[31mor'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("entrasync: unknown option '--col\\u001b[31mor' (see --help)\n");
  });
});

describe.each(DATABASES)('entrasync strict input on %s', (kind) => {
  let db: TestDatabase;
  const run = (args: string[], input?: string) => entrasync(args, db.env, input);

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    // Valid calls still succeed: the checks refuse only what they should.
    const org = await run(['org', 'create', '--name', 'Contoso', '--domain', 'contoso.com']);
    expect(org.code, org.stderr).toBe(0);
    const user = await run(['users', 'add', '--org', 'contoso.com', '--email', 'ann@contoso.com']);
    expect(user.code, user.stderr).toBe(0);
  });
  afterAll(() => db?.drop());

  it.each([
    [['org', 'create', '--name', 'Fab\u0001rikam', '--domain', 'fabrikam.com'], '--name', 'U+0001'],
    // A repeatable flag: every value is checked.
    [
      ['org', 'create', '--name', 'Fabrikam', '--domain', 'fabrikam.com', '--domain', 'fab\u007frikam.net'],
      '--domain',
      'U+007F',
    ],
    [
      [
        'users',
        'add',
        '--org',
        'contoso.com',
        '--email',
        'bob@contoso.com',
        '--display-name',
        'Bob\u001b[2J',
      ],
      '--display-name',
      'U+001B',
    ],
    // --org belongs to the parent `sync` command: checked all the same.
    [['sync', 'approve', '--org', 'contoso\u0002.com', '--run', 'r1'], '--org', 'U+0002'],
  ])('refuses a control character in a flag: %j', async (args, flag, codePoint) => {
    const result = await run([...args, '--json']);
    expect(result.code).toBe(2);
    const message = `${flag} holds a control character (${codePoint}): remove it.`;
    expect(result.stderr).toBe(`entrasync: ${message}\n`);
    expect(result.json()).toEqual({ error: { code: 'invalid_input', field: flag.slice(2), message } });
  });

  it('wrote nothing for the refused flags', async () => {
    const orgs = await run(['org', 'list', '--json']);
    expect(orgs.json<{ name: string }[]>().map((o) => o.name)).toEqual(['Contoso']);
    const users = await run(['users', 'list', '--org', 'contoso.com', '--json']);
    expect(users.json<{ email: string }[]>().map((u) => u.email)).toEqual(['ann@contoso.com']);
  });

  it.each([
    [
      ['users', 'set-password', '--org', 'contoso.com', '--email', 'ann@contoso.com', '--password-stdin'],
      /^entrasync: password: The password read from standard input holds a control character \(U\+0000\): remove it\.\n$/,
    ],
    [
      [
        'entra',
        'set',
        '--org',
        'contoso.com',
        '--client-secret-file',
        fileWith('secret.txt', `${WITH_NUL}\n`),
      ],
      /^entrasync: client-secret: The client-secret read from \S+secret\.txt holds a control character \(U\+0000\): remove it\.\n$/,
    ],
    [
      [
        'entra',
        'set',
        '--org',
        'contoso.com',
        '--ca-file',
        fileWith('ca.pem', '-----BEGIN CERTIFICATE-----\nAAAA\u0000\n-----END CERTIFICATE-----\n'),
      ],
      /^entrasync: --ca-file \S+ca\.pem holds a control character \(U\+0000\): remove it\.\n$/,
    ],
  ])(
    'refuses a control character in what stdin or a file holds, never printing it: %j',
    async (args, message) => {
      const result = await run(args, `${WITH_NUL}\n`);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stdout + result.stderr).not.toContain('battery');
    },
  );

  it('saved no refused secret or certificate; a password ending in a line break is taken', async () => {
    const shown = await run(['entra', 'show', '--org', 'contoso.com', '--json']);
    expect(shown.json()).toMatchObject({ secret: { set: false }, caPem: null });
    const set = await run(
      ['users', 'set-password', '--org', 'contoso.com', '--email', 'ann@contoso.com', '--password-stdin'],
      `${PASSWORD}\n`,
    );
    expect(set.code, set.stderr).toBe(0);
  });

  it('takes the largest number a setting holds (its integer column, on PostgreSQL too)', async () => {
    const set = await run([
      'automation',
      'set',
      '--org',
      'contoso.com',
      '--safeguard-min-users',
      '2147483647',
      '--json',
    ]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.json()).toMatchObject({ safeguard: { percent: 10, minUsers: 2_147_483_647 } });
  });
});
