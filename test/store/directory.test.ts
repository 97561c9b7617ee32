import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/directory/errors.js';
import type { App } from '../../src/services/app.js';
import { createTestApp } from '../support/app.js';
import { DATABASES } from '../support/databases.js';

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe.each(DATABASES)('directory on %s', (kind) => {
  let app: App;
  let close: () => Promise<void>;
  let contoso: string;
  let fabrikam: string;

  beforeAll(async () => {
    ({ app, close } = await createTestApp(kind));
    contoso = (await app.orgs.create({ name: 'Contoso', domains: ['contoso.com', 'Contoso.NET'] }, 'test'))
      .id;
    fabrikam = (await app.orgs.create({ name: 'Fabrikam', domains: ['fabrikam.com'] }, 'test')).id;
  });
  afterAll(() => close());

  it('resolves an organization by id or by any domain, case-insensitively', async () => {
    expect((await app.orgs.resolve(contoso)).name).toBe('Contoso');
    expect((await app.orgs.resolve('CONTOSO.net')).id).toBe(contoso);
    const error = await rejection(app.orgs.resolve('nowhere.com'));
    expect(error.code).toBe('not_found');
  });

  it('refuses a domain owned by another organization and writes nothing', async () => {
    const error = await rejection(
      app.orgs.create({ name: 'Copycat', domains: ['new.com', 'contoso.com'] }, 'test'),
    );
    expect(error.code).toBe('conflict');
    expect(error.field).toBe('domain');
    const names = (await app.orgs.list()).map((o) => o.name);
    expect(names).not.toContain('Copycat');
    expect((await app.orgs.resolve('fabrikam.com')).domains).toEqual(['fabrikam.com']);
    await expect(app.orgs.resolve('new.com')).rejects.toThrow(/No organization/);
  });

  it('refuses an invalid domain', async () => {
    const error = await rejection(app.orgs.addDomain(contoso, 'not a domain', 'test', { direct: true }));
    expect(error.code).toBe('invalid_input');
  });

  it('stores a user with aliases, lower-cased, and lists it', async () => {
    const dir = await app.directory(contoso);
    const user = await dir.addUser(
      {
        email: 'Ann.Lee@Contoso.com',
        aliases: ['ann@contoso.net', 'A.Lee@contoso.com'],
        firstName: 'Ann',
        lastName: 'Lee',
      },
      'test',
    );
    expect(user).toMatchObject({
      email: 'ann.lee@contoso.com',
      aliases: ['a.lee@contoso.com', 'ann@contoso.net'],
      displayName: 'Ann Lee',
      role: 'end_user',
      status: 'active',
      source: 'manual',
      externalId: null,
      exempt: false,
    });
    const page = await dir.listUsers({ limit: 10, offset: 0, search: 'ANN@contoso.NET' });
    expect(page.items.map((u) => u.email)).toEqual(['ann.lee@contoso.com']);
  });

  it('keeps every address unique across the service, even across organizations', async () => {
    const dir = await app.directory(contoso);
    await dir.addUser({ email: 'dup@contoso.com' }, 'test');
    const asPrimary = await rejection(dir.addUser({ email: 'DUP@contoso.com' }, 'test'));
    expect(asPrimary.code).toBe('conflict');
    const asAlias = await rejection(
      dir.addUser({ email: 'other@contoso.com', aliases: ['dup@contoso.com'] }, 'test'),
    );
    expect(asAlias.code).toBe('conflict');
    expect(asAlias.field).toBe('aliases');
    const asGroup = await rejection(
      dir.addGroup({ name: 'G', kind: 'distribution', email: 'dup@contoso.com' }, 'test'),
    );
    expect(asGroup.code).toBe('conflict');
    // Nothing was written by the refused calls.
    const { items } = await dir.listUsers({ limit: 100, offset: 0, search: 'other@' });
    expect(items).toEqual([]);
  });

  it('refuses an alias outside the organization domains, with the field named', async () => {
    const dir = await app.directory(contoso);
    const error = await rejection(
      dir.addUser({ email: 'x@contoso.com', aliases: ['x@fabrikam.com'] }, 'test'),
    );
    expect(error).toMatchObject({ code: 'invalid_input', field: 'aliases' });
  });

  it('stores groups with nested members and computes effective members', async () => {
    const dir = await app.directory(contoso);
    await dir.addUser({ email: 'g1@contoso.com' }, 'test');
    await dir.addUser({ email: 'g2@contoso.com' }, 'test');
    const inner = await dir.addGroup(
      { name: 'Inner', kind: 'security', members: ['g2@contoso.com'] },
      'test',
    );
    const outer = await dir.addGroup(
      {
        name: 'Outer',
        kind: 'distribution',
        email: 'outer@contoso.com',
        aliases: ['all@contoso.net'],
        members: ['g1@contoso.com', 'Inner'],
      },
      'test',
    );
    expect(outer.members).toEqual(['Inner', 'g1@contoso.com']);
    const detail = await dir.getGroup(outer.id);
    expect(detail.effectiveMembers).toEqual(['g1@contoso.com', 'g2@contoso.com']);
    // A cycle (Inner contains Outer) does not loop forever.
    await dir.updateGroup(inner.id, { members: ['g2@contoso.com', 'outer@contoso.com'] }, 'test');
    expect((await dir.getGroup(inner.id)).effectiveMembers).toEqual(['g1@contoso.com', 'g2@contoso.com']);
  });

  it('refuses to remove a domain still in use, and removes an unused one', async () => {
    const error = await rejection(app.orgs.removeDomain(contoso, 'contoso.net', 'test'));
    expect(error.code).toBe('conflict');
    await app.orgs.addDomain(fabrikam, 'spare.fabrikam.com', 'test', { direct: true });
    const after = await app.orgs.removeDomain(fabrikam, 'spare.fabrikam.com', 'test');
    expect(after.domains).toEqual(['fabrikam.com']);
  });

  it('records changes in the audit log', async () => {
    const rows = await app.store.db
      .selectFrom('audit_log')
      .select(['action'])
      .where('org_id', '=', contoso)
      .execute();
    const actions = rows.map((r) => r.action);
    expect(actions).toEqual(
      expect.arrayContaining(['org.create', 'user.create', 'group.create', 'group.update']),
    );
  });

  it('updates a user and removes it with its addresses, freeing them', async () => {
    const dir = await app.directory(fabrikam);
    const u = await dir.addUser({ email: 'temp@fabrikam.com', aliases: ['t@fabrikam.com'] }, 'test');
    const updated = await dir.updateUser(
      u.id,
      { role: 'silent_user', status: 'inactive', exempt: true },
      'test',
    );
    expect(updated).toMatchObject({ role: 'silent_user', status: 'inactive', exempt: true });
    await dir.removeUser(u.id, 'test');
    const again = await dir.addUser({ email: 't@fabrikam.com' }, 'test');
    expect(again.email).toBe('t@fabrikam.com');
  });
});
