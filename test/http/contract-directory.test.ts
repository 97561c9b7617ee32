import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import { buildServer } from '../../src/http/server.js';
import type { App } from '../../src/services/app.js';
import { DirectoryService } from '../../src/services/directory.js';
import { createJobsApp } from '../jobs/support.js';
import { DATABASES } from '../support/databases.js';
import { expectServedAsReturned, lastReturned } from '../support/served.js';

/**
 * The directory API drops nothing the service returned (as test/http/contract.test.ts does for
 * sync): each answer is compared with the value DirectoryService itself returned, caught by a spy,
 * so a property missing from a schema in src/contract/directory.ts makes the two differ. The
 * users include every recipient fact (a shared mailbox, an inactive user, an exempt one).
 */

const DOMAIN = 'directory-contract.example';
type Method =
  | 'listUsers'
  | 'getUser'
  | 'addUser'
  | 'updateUser'
  | 'listGroups'
  | 'getGroup'
  | 'addGroup'
  | 'updateGroup';
const METHODS: Method[] = [
  'listUsers',
  'getUser',
  'addUser',
  'updateUser',
  'listGroups',
  'getGroup',
  'addGroup',
  'updateGroup',
];

describe.each(DATABASES)('the directory API serves every property the service returns, on %s', (kind) => {
  let app: App;
  let close: () => Promise<void>;
  let server: FastifyInstance;
  let token: string;
  let orgId: string;
  const spies = {} as Record<Method, MockInstance>;

  const call = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
    server.inject({
      method,
      url: `/api/v1/orgs/${orgId}${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });

  const expectServed = (response: LightMyRequestResponse, method: Method, status = 200) =>
    expectServedAsReturned(response, spies[method], status);

  async function expectPageServed(response: LightMyRequestResponse, method: Method) {
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    // The route adds the page's limit and offset to what the service found.
    expect({ items: body.items, total: body.total }).toEqual(await lastReturned(spies[method]));
    return body;
  }

  beforeAll(async () => {
    ({ app, close } = await createJobsApp(kind));
    server = await buildServer(app);
    orgId = (await app.orgs.create({ name: DOMAIN, domains: [DOMAIN] }, 'test')).id;
    token = (await app.auth.createApiToken({ name: 'contract', orgId, createdBy: 'test' })).token;
    for (const method of METHODS) spies[method] = vi.spyOn(DirectoryService.prototype, method);
  });
  afterEach(() => {
    for (const spy of Object.values(spies)) spy.mockClear();
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await server?.close();
    await close?.();
  });

  it('serves users as added, read, changed and listed', async () => {
    const alice = await expectServed(
      await call('POST', '/users', {
        email: `alice@${DOMAIN}`,
        aliases: [`a@${DOMAIN}`],
        firstName: 'Alice',
        lastName: 'Liddell',
        displayName: 'Alice Liddell',
        role: 'end_user',
      }),
      'addUser',
      201,
    );
    expect(alice).toMatchObject({
      canSignIn: true,
      receivesDigests: true,
      billable: true,
      signInRefusal: null,
    });
    const silent = await expectServed(
      await call('POST', '/users', {
        email: `bob@${DOMAIN}`,
        role: 'silent_user',
        status: 'inactive',
        exempt: true,
      }),
      'addUser',
      201,
    );
    expect(silent).toMatchObject({ deliverable: false, canSignIn: false, exempt: true });
    expect(typeof silent.signInRefusal).toBe('string');
    await expectServed(await call('GET', `/users/${alice.id}`), 'getUser');
    await expectServed(await call('PATCH', `/users/${alice.id}`, { displayName: 'Alice L.' }), 'updateUser');
    const page = await expectPageServed(await call('GET', '/users?limit=10'), 'listUsers');
    expect(page.items).toHaveLength(2);
  });

  it('serves groups as added, read (with effective members), changed and listed', async () => {
    const team = await expectServed(
      await call('POST', '/groups', {
        name: 'Team',
        kind: 'distribution',
        email: `team@${DOMAIN}`,
        members: [`alice@${DOMAIN}`],
      }),
      'addGroup',
      201,
    );
    const outer = await expectServed(
      await call('POST', '/groups', { name: 'Everyone', kind: 'security', members: [`team@${DOMAIN}`] }),
      'addGroup',
      201,
    );
    const detail = await expectServed(await call('GET', `/groups/${outer.id}`), 'getGroup');
    expect(detail.effectiveMembers).toEqual([`alice@${DOMAIN}`]);
    await expectServed(
      await call('PATCH', `/groups/${team.id}`, { aliases: [`t@${DOMAIN}`] }),
      'updateGroup',
    );
    const page = await expectPageServed(await call('GET', '/groups?limit=10'), 'listGroups');
    expect(page.items).toHaveLength(2);
  });
});
