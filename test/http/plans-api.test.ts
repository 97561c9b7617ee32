import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { buildServer } from '../../src/http/server.js';
import type { App } from '../../src/services/app.js';
import { addUsers, connectOrg, createJobsApp } from '../jobs/support.js';
import { DATABASES } from '../support/databases.js';

/**
 * Stored plans read back by id (GET …/sync/plans/{planId}), paged by category — a preview and
 * a held run's plan alike — and approving a held run with unticked changes, on both databases.
 */
describe.each(DATABASES)('plans API on %s', (kind) => {
  let emu: Emulator;
  let app: App;
  let close: () => Promise<void>;
  let server: FastifyInstance;
  let token: string;
  let orgId: string;
  let ids: string[];

  const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
    server.inject({
      method,
      url: `/api/v1/orgs/${orgId}${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });
  const emails = async () =>
    (await (await app.directory(orgId)).listUsers({ limit: 500, offset: 0 })).items
      .map((u) => u.email)
      .sort();

  beforeAll(async () => {
    emu = await startEmulator({ users: 0, groups: 0, seed: 71 });
    ids = addUsers(emu, 'plans.example', 12);
    ({ app, close } = await createJobsApp(kind));
    server = await buildServer(app);
    orgId = await connectOrg(app, emu, 'plans.example', { frequencyHours: null, removeUsers: true });
    token = (await app.auth.createApiToken({ name: 'test', orgId, createdBy: 'test' })).token;
  });
  afterAll(async () => {
    await server?.close();
    await close?.();
    await emu?.close();
  });

  it('reads a preview back by id, paged by category and filtered, and refuses bad pages', async () => {
    const made = await call('POST', '/sync/preview', {});
    expect(made.statusCode, made.body).toBe(200);
    const preview = made.json();
    expect(preview.usersToAdd).toHaveLength(12);

    const first = await call('GET', `/sync/plans/${preview.planId}?category=usersToAdd&offset=0&limit=5`);
    expect(first.statusCode, first.body).toBe(200);
    const view = first.json();
    expect(view).toMatchObject({
      planId: preview.planId,
      state: 'preview',
      run: null,
      expiresAt: preview.expiresAt,
      counts: { usersToAdd: 12, usersToRemove: 0, groupsToAdd: 0, skipped: preview.skipped.length },
      deactivations: 0,
      seats: preview.seats,
      unchanged: preview.unchanged,
      page: { category: 'usersToAdd', offset: 0, limit: 5, total: 12 },
    });
    expect(view.usersToAdd).toBeUndefined();
    expect(view.page.items.map((c: { id: string }) => c.id)).toEqual(
      preview.usersToAdd.slice(0, 5).map((c: { id: string }) => c.id),
    );
    const last = (
      await call('GET', `/sync/plans/${preview.planId}?category=usersToAdd&offset=10&limit=5`)
    ).json();
    expect(last.page.items.map((c: { id: string }) => c.id)).toEqual(
      preview.usersToAdd.slice(10).map((c: { id: string }) => c.id),
    );
    // Without a category: the first with changes, 100 a page.
    expect((await call('GET', `/sync/plans/${preview.planId}`)).json().page).toMatchObject({
      category: 'usersToAdd',
      limit: 100,
      total: 12,
    });
    const found = (
      await call('GET', `/sync/plans/${preview.planId}?category=usersToAdd&search=USER1`)
    ).json();
    expect(found.page.items.map((c: { address: string }) => c.address).sort()).toEqual([
      'user10@plans.example',
      'user11@plans.example',
      'user1@plans.example',
    ]);
    expect(found.page.total).toBe(3);

    const bad = await call('GET', `/sync/plans/${preview.planId}?category=usersToDelete`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('usersToDelete');
    expect(bad.json().error.field).toBe('category');
    for (const query of ['limit=501', 'limit=0', 'offset=-1', 'offset=99999999999', 'limit=ten']) {
      const refused = await call('GET', `/sync/plans/${preview.planId}?${query}`);
      expect(refused.statusCode, query).toBe(400);
    }
    const unknown = await call('GET', '/sync/plans/nope');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.message).toMatch(/Search again/);

    // Executed: still readable while it lasts, and says by which run.
    const run = (await call('POST', '/sync/execute', { planId: preview.planId })).json();
    expect(run.status).toBe('succeeded');
    expect((await call('GET', `/sync/plans/${preview.planId}`)).json()).toMatchObject({
      state: 'executed',
      run: { id: run.runId, status: 'succeeded' },
    });
    expect(await emails()).toHaveLength(12);
  });

  it('says a preview expired, and to Search again', async () => {
    const preview = (await call('POST', '/sync/preview', {})).json();
    await app.store.db
      .updateTable('sync_plans')
      .set({ expires_at: '2000-01-01T00:00:00.000Z' })
      .where('id', '=', preview.planId)
      .execute();
    const expired = await call('GET', `/sync/plans/${preview.planId}`);
    expect(expired.statusCode).toBe(404);
    expect(expired.json().error.message).toMatch(/expired.*Search again/);
  });

  it("lists a held run's removals with the right counts, and approve applies exactly the still-ticked changes", async () => {
    // Three users leave Entra, one is disabled: held by a safeguard (here: one that always holds).
    for (const id of ids.slice(0, 3)) emu.tenant.deleteUser(id, { permanent: true });
    emu.tenant.updateUser(ids[3]!, { accountEnabled: false });
    const held = await (await app.sync(orgId)).execute(
      {
        trigger: 'scheduled',
        safeguard: async () => ({ message: 'Held by the test.', removals: 4, syncedUsers: 12 }),
      },
      'scheduler',
    );
    expect(held.status).toBe('held');

    const run = (await call('GET', `/sync/runs/${held.runId}`)).json();
    expect(run).toMatchObject({ status: 'held', planId: held.planId });
    expect(run.summary.planned).toMatchObject({ usersToRemove: 3, usersToUpdate: 1, usersToAdd: 0 });

    const view = (await call('GET', `/sync/plans/${held.planId}?category=usersToRemove`)).json();
    expect(view).toMatchObject({
      state: 'held',
      run: { id: held.runId, status: 'held' },
      expiresAt: null,
      counts: { usersToRemove: 3, usersToUpdate: 1 },
      deactivations: 1,
      page: { category: 'usersToRemove', total: 3 },
    });
    const removals = view.page.items as { id: string; address: string }[];
    expect(removals.map((c) => c.address).sort()).toEqual([
      'user0@plans.example',
      'user1@plans.example',
      'user2@plans.example',
    ]);

    const typo = await call('POST', `/sync/runs/${held.runId}/approve`, { excludedChangeIds: ['ru_nope'] });
    expect(typo.statusCode).toBe(400);
    expect(typo.json().error.field).toBe('excludedChangeIds');
    expect((await call('GET', `/sync/runs/${held.runId}`)).json().status).toBe('held');

    const kept = removals.find((c) => c.address === 'user1@plans.example')!;
    const approved = await call('POST', `/sync/runs/${held.runId}/approve`, { excludedChangeIds: [kept.id] });
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({
      runId: held.runId,
      status: 'succeeded',
      excluded: 1,
      applied: { usersToRemove: 2, usersToUpdate: 1 },
      skippedByReason: { guest: 0, alias_foreign_domain: 0 },
      expectedLeftOut: { initialDomainAliases: 0 },
    });
    const now = await emails();
    expect(now).toContain('user1@plans.example');
    expect(now).not.toContain('user0@plans.example');
    expect(now).not.toContain('user2@plans.example');
    expect(now).toHaveLength(10);
    const disabled = (await (await app.directory(orgId)).listUsers({ limit: 500, offset: 0 })).items.find(
      (u) => u.email === 'user3@plans.example',
    );
    expect(disabled?.status).toBe('inactive');
    const detail = (await call('GET', `/sync/runs/${held.runId}`)).json();
    expect(detail.detail).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: kept.id, outcome: 'excluded' })]),
    );
  });
});
