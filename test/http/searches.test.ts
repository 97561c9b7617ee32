import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { buildServer } from '../../src/http/server.js';
import { type App, openApp } from '../../src/services/app.js';
import { SEARCH_SILENT_MS, type SearchView } from '../../src/services/searches.js';
import { SearchRepository } from '../../src/store/search-repository.js';
import { addUsers, connectOrg, createJobsApp, waitFor } from '../jobs/support.js';
import type { TestDatabase } from '../support/databases.js';
import { DATABASES } from '../support/databases.js';

/**
 * Search as a job (POST …/sync/searches), on both databases, against the emulator: answered at
 * once, progress per collection while it reads, the stored preview once done, one at a time per
 * organization, cancelled from this server or another, a dead server's search read as interrupted.
 */
describe.each(DATABASES)('searches API on %s', (kind) => {
  const domain = 'search.example';
  let emu: Emulator;
  let app: App;
  let db: TestDatabase;
  let close: () => Promise<void>;
  let server: FastifyInstance;
  let token: string;
  let orgId: string;
  let otherToken: string;
  let otherOrgId: string;

  const call = (method: 'GET' | 'POST', url: string, payload?: object, as = token) =>
    server.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${as}` },
      ...(payload ? { payload } : {}),
    });
  const searches = (org = orgId) => `/orgs/${org}/sync/searches`;
  const get = async (id: string, org = orgId, as = token): Promise<SearchView> => {
    const res = await call('GET', `${searches(org)}/${id}`, undefined, as);
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  /** Polls (bounded) until the search has ended. */
  const ended = (id: string, org = orgId, as = token) =>
    waitFor(
      async () => {
        const search = await get(id, org, as);
        return search.state !== 'running' && search;
      },
      60_000,
      `search ${id} to end`,
    );
  const plansOf = async (org: string) =>
    (await app.store.db.selectFrom('sync_plans').select('id').where('org_id', '=', org).execute()).length;

  beforeAll(async () => {
    // Small pages, so a read is many pages; latency is turned up where a test needs a read that lasts.
    emu = await startEmulator({ users: 0, groups: 0, seed: 73, deltaPageSize: 5 });
    addUsers(emu, domain, 30);
    ({ app, db, close } = await createJobsApp(kind));
    server = await buildServer(app);
    orgId = await connectOrg(app, emu, domain, { frequencyHours: null });
    token = (await app.auth.createApiToken({ name: 'test', orgId, createdBy: 'test' })).token;
    otherOrgId = await connectOrg(app, emu, 'other.example', {
      frequencyHours: null,
      secret: 'not-the-right-secret',
    });
    otherToken = (await app.auth.createApiToken({ name: 'other', orgId: otherOrgId, createdBy: 'test' }))
      .token;
  });
  afterAll(async () => {
    await server?.close();
    await close?.();
    await emu?.close();
  });

  it('answers at once, reports pages and objects per collection while reading, and ends with a readable preview', async () => {
    emu.setLatency(400);
    try {
      const started = await call('POST', searches(), { what: ['users'] });
      expect(started.statusCode, started.body).toBe(202);
      const search: SearchView = started.json();
      expect(search).toMatchObject({
        state: 'running',
        phase: 'read',
        cancelRequested: false,
        startedBy: 'token:test',
        finishedAt: null,
        planId: null,
        error: null,
      });

      // While it reads, its progress shows: users pages so far.
      const reading = await waitFor(
        async () => {
          const now = await get(search.id);
          return now.state === 'running' && (now.progress.users?.pages ?? 0) > 0 && now;
        },
        30_000,
        'progress while reading',
      );
      expect(reading.progress.users!.objects).toBeLessThanOrEqual(30);
      // The organization's running search is listed first, for a console that reloads.
      const listed = (await call('GET', `${searches()}?limit=1`)).json();
      expect(listed.map((s: SearchView) => s.id)).toEqual([search.id]);

      const done = await ended(search.id);
      expect(done).toMatchObject({ state: 'done', phase: null, error: null, cancelRequested: false });
      expect(done.progress.users).toEqual({ pages: 6, objects: 30 });
      expect(done.progress.groups?.objects).toBe(0);
      expect(done.finishedAt).not.toBeNull();
      const plan = await call('GET', `/orgs/${orgId}/sync/plans/${done.planId}`);
      expect(plan.statusCode, plan.body).toBe(200);
      expect(plan.json()).toMatchObject({
        planId: done.planId,
        state: 'preview',
        counts: { usersToAdd: 30 },
        policy: { what: { users: true, distribution: false, security: false } },
      });
    } finally {
      emu.setLatency(0);
    }
  });

  it('runs one search per organization: a second start answers the running one', async () => {
    emu.setLatency(300);
    try {
      const first = await call('POST', searches(), {});
      expect(first.statusCode).toBe(202);
      const again = await call('POST', searches(), {});
      expect(again.statusCode, again.body).toBe(200);
      expect(again.json().id).toBe(first.json().id);
      await ended(first.json().id);
      // Once it ended, a new one starts.
      const next = await call('POST', searches(), {});
      expect(next.statusCode).toBe(202);
      expect(next.json().id).not.toBe(first.json().id);
      await ended(next.json().id);
    } finally {
      emu.setLatency(0);
    }
  });

  it('stops a cancelled search at its next page and stores nothing; a second cancel is refused', async () => {
    emu.setLatency(400);
    try {
      const plans = await plansOf(orgId);
      const search: SearchView = (await call('POST', searches(), {})).json();
      const cancel = await call('POST', `${searches()}/${search.id}/cancel`);
      expect(cancel.statusCode, cancel.body).toBe(200);
      expect(cancel.json()).toMatchObject({ id: search.id, cancelRequested: true });
      expect(['running', 'cancelled']).toContain(cancel.json().state);
      const stopped = await ended(search.id);
      expect(stopped).toMatchObject({ state: 'cancelled', planId: null, error: null, phase: null });
      // It stopped reading: far fewer than the 6 pages of users.
      expect(stopped.progress.users?.pages ?? 0).toBeLessThan(6);
      expect(await plansOf(orgId)).toBe(plans);

      const twice = await call('POST', `${searches()}/${search.id}/cancel`);
      expect(twice.statusCode).toBe(409);
      expect(twice.json().error).toMatchObject({ code: 'conflict' });
      expect(twice.json().error.message).toContain('cancelled');
    } finally {
      emu.setLatency(0);
    }
  });

  it('stops a search cancelled through another server (the flag read at its next progress write)', async () => {
    const elsewhere = await openApp(loadConfig({ ...db.env, ENTRASYNC_ALLOW_CUSTOM_CLOUD: '1' }));
    emu.setLatency(400);
    try {
      const plans = await plansOf(orgId);
      const search: SearchView = (await call('POST', searches(), {})).json();
      const asked = await elsewhere.searches.cancel(orgId, search.id);
      expect(asked).toMatchObject({ state: 'running', cancelRequested: true });
      expect((await ended(search.id)).state).toBe('cancelled');
      expect(await plansOf(orgId)).toBe(plans);
    } finally {
      emu.setLatency(0);
      await elsewhere.close();
    }
  });

  it('refuses to cancel a finished search', async () => {
    const search: SearchView = (await call('POST', searches(), {})).json();
    expect((await ended(search.id)).state).toBe('done');
    const res = await call('POST', `${searches()}/${search.id}/cancel`);
    expect(res.statusCode).toBe(409);
    expect(res.json().error.message).toBe(
      `Search ${search.id} has ended (done): there is nothing to cancel.`,
    );
  });

  it('records a failed read with the error body the API gives, without the secret', async () => {
    const started = await call('POST', searches(otherOrgId), {}, otherToken);
    expect(started.statusCode).toBe(202);
    const failed = await ended(started.json().id, otherOrgId, otherToken);
    expect(failed).toMatchObject({ state: 'failed', planId: null, error: { code: 'invalid_secret' } });
    expect(failed.error!.message.length).toBeGreaterThan(10);
    expect(JSON.stringify(failed)).not.toContain('not-the-right-secret');
  });

  it('reads a running search whose server went silent as failed (interrupted), and starts a new one past it', async () => {
    // What a server that died mid-read leaves behind: a running row, last written long ago.
    const repo = new SearchRepository(app.store.db, app.store.dialect, orgId);
    const long = new Date(Date.now() - SEARCH_SILENT_MS - 60_000).toISOString();
    const deadId = `dead-${kind}`;
    expect(await repo.insert({ id: deadId, startedAt: long, startedBy: 'admin@search.example' })).toBe(true);

    const dead = await get(deadId);
    expect(dead).toMatchObject({
      state: 'failed',
      phase: null,
      finishedAt: long,
      error: { code: 'interrupted' },
    });
    expect(dead.error!.message).toContain('Search again');
    expect((await call('POST', `${searches()}/${deadId}/cancel`)).statusCode).toBe(409);

    const next = await call('POST', searches(), {});
    expect(next.statusCode, next.body).toBe(202);
    expect((await repo.get(deadId))?.state).toBe('failed');
    expect((await ended(next.json().id)).state).toBe('done');
  });

  it('refuses bad input by name', async () => {
    const word = await call('POST', searches(), { what: ['everything'] });
    expect(word.statusCode).toBe(400);
    expect(word.json().error.code).toBe('invalid_input');
    expect((await call('POST', searches(), { when: 'now' })).statusCode).toBe(400);
    for (const limit of ['0', '51', 'x']) {
      const res = await call('GET', `${searches()}?limit=${limit}`);
      expect(res.statusCode, limit).toBe(400);
    }
    const unknown = await call('GET', `${searches()}/no-such-search`);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('not_found');
    expect((await call('POST', `${searches()}/no-such-search/cancel`)).statusCode).toBe(404);
  });

  it('refuses anonymous callers and other organizations; a search is found only in its own', async () => {
    const [latest] = (await call('GET', searches())).json() as SearchView[];
    const paths: ['GET' | 'POST', string][] = [
      ['POST', searches()],
      ['GET', searches()],
      ['GET', `${searches()}/${latest!.id}`],
      ['POST', `${searches()}/${latest!.id}/cancel`],
    ];
    for (const [method, url] of paths) {
      const anonymous = await server.inject({ method, url: `/api/v1${url}` });
      expect(anonymous.statusCode, url).toBe(401);
      expect((await call(method, url, undefined, otherToken)).statusCode, url).toBe(403);
    }
    // Another organization's admin naming this search under their own organization: not found.
    const foreign = await call('GET', `${searches(otherOrgId)}/${latest!.id}`, undefined, otherToken);
    expect(foreign.statusCode).toBe(404);
  });
});
