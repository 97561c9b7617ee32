import Fastify, { type FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { afterAll, afterEach, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import { RunResultSchema } from '../../src/contract/sync.js';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { buildServer } from '../../src/http/server.js';
import { AutomationService } from '../../src/jobs/automation.js';
import type { App } from '../../src/services/app.js';
import { EntraSettingsService } from '../../src/services/entra-settings.js';
import { SyncService } from '../../src/services/sync.js';
import { CATEGORIES, SKIP_REASONS } from '../../src/sync/categories.js';
import { addUsers, connectOrg, createJobsApp } from '../jobs/support.js';
import { DATABASES } from '../support/databases.js';
import { expectServedAsReturned } from '../support/served.js';

/**
 * Nothing the services return is lost on the wire. Fastify serializes a response through its
 * schema and silently drops every property the schema does not list, so each answer here is
 * compared with the value the service itself returned (caught by a spy on SyncService):
 * a property missing from a schema in src/contract makes the two differ. The tenant is built so
 * that every change kind, skipped entries, a held run, its approval and a run's detail occur.
 */

const DOMAIN = 'contract.example';
const HOW_ALL = ['add-users', 'update-users', 'add-groups', 'update-groups', 'remove-users', 'remove-groups'];
const HOLD = async () => ({ message: 'held by the test', removals: 2, syncedUsers: 4 });

type Method = 'preview' | 'execute' | 'planView' | 'runs' | 'run' | 'approve';

describe('a response drops nothing the service returned (the check itself)', () => {
  it('fails when a schema lacks a property the service returns', async () => {
    // What the check guards against: a response schema without `held`, as the route once had.
    const { held: _held, ...withoutHeld } = RunResultSchema.properties;
    const server = Fastify();
    const returned = {
      runId: 'r1',
      planId: null,
      status: 'held',
      applied: Object.fromEntries(CATEGORIES.map((c) => [c, 0])),
      excluded: 0,
      conflicts: [],
      skipped: 0,
      skippedByReason: Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])),
      expectedLeftOut: { initialDomainAliases: 0 },
      unchanged: 0,
      errors: [],
      timings: { readMs: 1, planMs: 1, applyMs: 0 },
      seats: null,
      held: { message: 'held', removals: 3, syncedUsers: 4 },
    };
    server.get('/', { schema: { response: { 200: Type.Object(withoutHeld) } } }, async () => returned);
    const spy = vi.fn(() => returned);
    spy();
    const response = await server.inject({ method: 'GET', url: '/' });
    await server.close();
    expect(response.statusCode).toBe(200);
    expect(response.json().held).toBeUndefined();
    await expect(expectServedAsReturned(response, spy as unknown as MockInstance)).rejects.toThrow();
  });
});

describe.each(DATABASES)('the sync API serves every property the service returns, on %s', (kind) => {
  let emu: Emulator;
  let app: App;
  let close: () => Promise<void>;
  let server: FastifyInstance;
  let token: string;
  let orgId: string;
  let ids: string[];
  let teamId: string;
  let securityId: string;
  const spies = {} as Record<Method, MockInstance>;

  const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
    server.inject({
      method,
      url: `/api/v1/orgs/${orgId}${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });

  /** Every page of a stored plan (each category, the skipped entries), each compared. */
  async function expectPlanPagesServed(planId: string) {
    for (const category of [...CATEGORIES, 'skipped']) {
      await expectServedAsReturned(
        await call('GET', `/sync/plans/${planId}?category=${category}`),
        spies.planView,
      );
    }
  }

  beforeAll(async () => {
    emu = await startEmulator({ users: 0, groups: 0, seed: 12 });
    ids = addUsers(emu, DOMAIN, 4);
    // An alias outside the organization's domains: skipped (alias_foreign_domain), the user synced.
    emu.tenant.updateUser(ids[0]!, {
      proxyAddresses: [`SMTP:user0@${DOMAIN}`, `smtp:zero@${DOMAIN}`, 'smtp:user0@elsewhere.example'],
    });
    // A shared mailbox with sign-in blocked: a functional account (blockedSignIn, seats).
    emu.tenant.addUser({
      displayName: 'Front desk',
      userPrincipalName: `info@${DOMAIN}`,
      mail: `info@${DOMAIN}`,
      proxyAddresses: [`SMTP:info@${DOMAIN}`],
      accountEnabled: false,
      mailboxSettings: { userPurpose: 'shared' },
    });
    // A guest: skipped (guest).
    emu.tenant.addUser({
      displayName: 'Guest',
      userPrincipalName: `guest_other.example#EXT#@${DOMAIN}`,
      mail: 'guest@other.example',
      proxyAddresses: ['SMTP:guest@other.example'],
      userType: 'Guest',
    });
    teamId = String(
      emu.tenant.addGroup({
        displayName: 'Team',
        mail: `team@${DOMAIN}`,
        mailEnabled: true,
        securityEnabled: false,
        members: [ids[0]!, ids[1]!],
      }).id,
    );
    securityId = String(
      emu.tenant.addGroup({
        displayName: 'Staff',
        mailEnabled: false,
        securityEnabled: true,
        members: [ids[2]!, ids[3]!],
      }).id,
    );
    ({ app, close } = await createJobsApp(kind));
    server = await buildServer(app);
    orgId = await connectOrg(app, emu, DOMAIN, { frequencyHours: null, removeUsers: true });
    token = (await app.auth.createApiToken({ name: 'contract', orgId, createdBy: 'test' })).token;
    for (const method of Object.keys({ preview: 0, execute: 0, planView: 0, runs: 0, run: 0, approve: 0 })) {
      spies[method as Method] = vi.spyOn(SyncService.prototype, method as Method);
    }
  });
  afterEach(() => {
    for (const spy of Object.values(spies)) spy.mockClear();
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await server?.close();
    await close?.();
    await emu?.close();
  });

  it('serves a first preview, its pages, an execute with an unticked change, the run list and the run', async () => {
    const preview = await expectServedAsReturned(
      await call('POST', '/sync/preview', { how: HOW_ALL }),
      spies.preview,
    );
    expect(preview.usersToAdd.length).toBeGreaterThan(0);
    expect(preview.groupsToAdd.length).toBe(2);
    expect(preview.skipped.map((s: { reason: string }) => s.reason).sort()).toEqual([
      'alias_foreign_domain',
      'guest',
    ]);
    expect(preview.read.mailboxes.needed).toBeGreaterThan(0);
    await expectPlanPagesServed(preview.planId);

    const unticked = preview.usersToAdd.find((c: { address: string }) => c.address === `user3@${DOMAIN}`).id;
    const run = await expectServedAsReturned(
      await call('POST', '/sync/execute', {
        planId: preview.planId,
        excludedChangeIds: [unticked],
        how: HOW_ALL,
      }),
      spies.execute,
    );
    expect(run.excluded).toBe(1);
    await expectServedAsReturned(await call('GET', '/sync/runs'), spies.runs);
    const detail = await expectServedAsReturned(await call('GET', `/sync/runs/${run.runId}`), spies.run);
    expect(detail.summary.skippedEntries.length).toBe(2);
    expect(detail.detail.map((o: { outcome: string }) => o.outcome)).toContain('excluded');
  });

  it('serves every change kind, a held run and its plan, its approval and its detail', async () => {
    emu.tenant.updateUser(ids[0]!, { displayName: 'User Zero, renamed' });
    emu.tenant.updateUser(ids[1]!, { accountEnabled: false });
    emu.tenant.deleteUser(ids[2]!, { permanent: true });
    emu.tenant.removeMember(teamId, ids[1]!);
    emu.tenant.addMember(teamId, ids[3]!);
    emu.tenant.deleteGroup(securityId, { permanent: true });

    const preview = await expectServedAsReturned(
      await call('POST', '/sync/preview', { how: HOW_ALL }),
      spies.preview,
    );
    for (const category of [
      'usersToAdd',
      'usersToUpdate',
      'usersToRemove',
      'groupsToUpdate',
      'groupsToRemove',
    ]) {
      expect(preview[category].length, category).toBeGreaterThan(0);
    }
    await expectPlanPagesServed(preview.planId);

    // An unattended run the safeguard holds, read back and approved through the API.
    const held = await (await app.sync(orgId)).execute(
      { trigger: 'scheduled', safeguard: HOLD, how: { ...allHow() } },
      'scheduler',
    );
    expect(held.status).toBe('held');
    await expectPlanPagesServed(held.planId!);
    const heldRun = await expectServedAsReturned(await call('GET', `/sync/runs/${held.runId}`), spies.run);
    expect(heldRun.summary.held.message).toBe('held by the test');
    expect(heldRun.summary.planned).toBeDefined();

    const approved = await expectServedAsReturned(
      await call('POST', `/sync/runs/${held.runId}/approve`, {}),
      spies.approve,
    );
    expect(approved.decision.action).toBe('approved');
    await expectServedAsReturned(await call('GET', '/sync/runs'), spies.runs);
    const run = await expectServedAsReturned(await call('GET', `/sync/runs/${held.runId}`), spies.run);
    const kinds = new Set(run.detail.map((o: { kind: string }) => o.kind));
    expect([...kinds].sort()).toEqual([
      'add_user',
      'remove_group',
      'remove_user',
      'update_group',
      'update_user',
    ]);
    expect(run.detail.find((o: { kind: string }) => o.kind === 'update_group').membersAdded.length).toBe(1);
  });

  it('serves the Entra settings, a change to them, the connection test and the automation settings', async () => {
    const settings = {
      get: vi.spyOn(EntraSettingsService.prototype, 'get'),
      set: vi.spyOn(EntraSettingsService.prototype, 'set'),
    };
    const test = vi.spyOn(app, 'testConnection');
    const automation = {
      get: vi.spyOn(AutomationService.prototype, 'get'),
      set: vi.spyOn(AutomationService.prototype, 'set'),
    };
    const shown = await expectServedAsReturned(await call('GET', '/entra-settings'), settings.get);
    expect(shown.secret.set).toBe(true);
    await expectServedAsReturned(
      await call('PUT', '/entra-settings', { includeGuests: true, how: { removeGroups: false } }),
      settings.set,
    );
    const report = await expectServedAsReturned(await call('POST', '/entra-settings/test'), test);
    expect(report.steps.length).toBeGreaterThan(3);
    await expectServedAsReturned(await call('GET', '/automation'), automation.get);
    await expectServedAsReturned(
      await call('PUT', '/automation', { safeguardPercent: 20, webhookUrl: 'https://hooks.example/x' }),
      automation.set,
    );
  });
});

function allHow() {
  return {
    addUsers: true,
    updateUsers: true,
    addGroups: true,
    updateGroups: true,
    removeUsers: true,
    removeGroups: true,
  };
}
