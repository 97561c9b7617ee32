import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { DomainEntry, Organization } from '../../src/directory/model.js';
import { type App, openApp } from '../../src/services/app.js';
import { entrasync } from '../support/cli.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';

describe.each(DATABASES)('entrasync org domains on %s', (kind) => {
  let db: TestDatabase;
  let dns: TestDnsServer;
  let env: Record<string, string>;
  // The service over the same database, standing in for an organization admin in the console.
  let app: App;
  let org: string;
  const run = (args: string[]) => entrasync(args, env);

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    dns = await startDnsServer();
    env = { ...db.env, ENTRASYNC_DNS_SERVERS: `127.0.0.1:${dns.port}` };
    app = await openApp(loadConfig(env));
    org = (await app.orgs.create({ name: 'Contoso', domains: ['contoso.com'] }, 'test')).id;
  });

  afterAll(async () => {
    await app?.close();
    await dns?.close();
    await db?.drop();
  });

  it("adds a domain that counts at once: the CLI is the operator's", async () => {
    const added = await run([
      'org',
      'domains',
      'add',
      '--org',
      'contoso.com',
      '--domain',
      'contoso.net',
      '--json',
    ]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.json<Organization>()).toMatchObject({
      domains: ['contoso.com', 'contoso.net'],
      pendingDomains: [],
    });
  });

  it('lists a pending domain with its TXT record, and verifies it once the record is published', async () => {
    await app.orgs.addDomain(org, 'contoso.org', 'admin@contoso.com', { direct: false });
    const listed = await run(['org', 'domains', 'list', '--org', 'contoso.com']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/contoso\.net {2}verified \(operator, /);
    const [, value] = /contoso\.org {2}pending: publish TXT contoso\.org "([^"]+)"/.exec(listed.stdout) ?? [];
    expect(value).toMatch(/^entrasync-verification=/);

    const early = await run(['org', 'domains', 'verify', '--org', org, '--domain', 'contoso.org']);
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/contoso\.org is not proven yet\. DNS: contoso\.org has no TXT record/);

    dns.setTxt('contoso.org', [value!]);
    const verified = await run([
      'org',
      'domains',
      'verify',
      '--org',
      org,
      '--domain',
      'contoso.org',
      '--json',
    ]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.json<DomainEntry>()).toMatchObject({ status: 'verified', provenBy: 'dns' });
  }, 90_000); // four CLI processes in a row
});
