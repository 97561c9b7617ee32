import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { buildServer } from '../../src/http/server.js';
import type { App } from '../../src/services/app.js';
import type { ChangeOutcome } from '../../src/services/sync.js';
import { addUsers, connectOrg, createJobsApp } from '../jobs/support.js';
import { DATABASES } from '../support/databases.js';

const DOMAIN = 'history.example';
const HOW_ALL = ['add-users', 'update-users', 'add-groups', 'update-groups', 'remove-users', 'remove-groups'];
const HOLD = async () => ({ message: 'held by the test', removals: 1, syncedUsers: 1 });

/**
 * History as detailed as the preview, on both databases: every change's detail in a run (what
 * was added, what was removed), who approved or dismissed a held run, runs filtered by trigger,
 * status and date, the audit log naming its targets, and CSV downloads of a preview and a run.
 */
describe.each(DATABASES)('history API on %s', (kind) => {
  let emu: Emulator;
  let app: App;
  let close: () => Promise<void>;
  let server: FastifyInstance;
  let token: string;
  let orgId: string;
  let ids: string[];
  let groupId: string;
  const actor = 'token:history';

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
    server.inject({
      method,
      url: `/api/v1/orgs/${orgId}${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });
  const outcomes = async (runId: string) =>
    (await call('GET', `/sync/runs/${runId}`)).json().detail as ChangeOutcome[];
  const held = async () =>
    (await app.sync(orgId)).execute({ trigger: 'scheduled', safeguard: HOLD, how: undefined }, 'scheduler');

  beforeAll(async () => {
    emu = await startEmulator({ users: 0, groups: 0, seed: 91 });
    ids = addUsers(emu, DOMAIN, 3);
    emu.tenant.addUser({
      displayName: 'Front desk',
      userPrincipalName: `info@${DOMAIN}`,
      mail: `info@${DOMAIN}`,
      proxyAddresses: [`SMTP:info@${DOMAIN}`, `smtp:hello@${DOMAIN}`],
      accountEnabled: false,
      mailboxSettings: { userPurpose: 'shared' },
    });
    // A display name a spreadsheet would run as a formula.
    emu.tenant.addUser({
      displayName: '=HYPERLINK("http://evil.example","x")',
      userPrincipalName: `formula@${DOMAIN}`,
      mail: `formula@${DOMAIN}`,
      proxyAddresses: [`SMTP:formula@${DOMAIN}`],
    });
    groupId = String(
      emu.tenant.addGroup({
        displayName: 'Team, the',
        mail: `team@${DOMAIN}`,
        mailEnabled: true,
        securityEnabled: false,
        members: [ids[0]!, ids[1]!],
      }).id,
    );
    ({ app, close } = await createJobsApp(kind));
    server = await buildServer(app);
    orgId = await connectOrg(app, emu, DOMAIN, { frequencyHours: null, removeUsers: true });
    token = (await app.auth.createApiToken({ name: 'history', orgId, createdBy: 'test' })).token;
  });
  afterAll(async () => {
    await server?.close();
    await close?.();
    await emu?.close();
  });

  it('records what every add created, and exports a preview and a run as CSV', async () => {
    const preview = (await call('POST', '/sync/preview', { how: HOW_ALL })).json();
    const csv = await call('GET', `/sync/plans/${preview.planId}/changes.csv`);
    expect(csv.statusCode, csv.body).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toBe(`attachment; filename="preview-${preview.planId}.csv"`);
    const lines = csv.body.split('\r\n');
    expect(lines[0]).toBe('category,id,kind,externalId,address,name,detail');
    // A header, one line per change and skipped entry, and the final CRLF's empty remainder.
    expect(lines).toHaveLength(1 + 6 + preview.skipped.length + 1);
    expect(csv.body).toContain(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
    expect(csv.body).toContain('"Team, the"');
    const info = lines.find((l) => l.includes(`,info@${DOMAIN},`))!;
    expect(info).toContain('functional (shared mailbox)');
    expect(info).toContain(`aliases: hello@${DOMAIN}`);
    expect((await call('GET', '/sync/plans/nope/changes.csv')).statusCode).toBe(404);

    const run = (await call('POST', '/sync/execute', { planId: preview.planId, how: HOW_ALL })).json();
    expect(run.status).toBe('succeeded');
    const detail = await outcomes(run.runId);
    expect(detail.find((o) => o.address === `info@${DOMAIN}`)).toMatchObject({
      kind: 'add_user',
      outcome: 'applied',
      user: {
        email: `info@${DOMAIN}`,
        aliases: [`hello@${DOMAIN}`],
        role: 'end_user',
        status: 'active',
        mailbox: 'shared',
        functional: true,
      },
    });
    expect(detail.find((o) => o.address === `user0@${DOMAIN}`)?.user).toMatchObject({
      role: 'end_user',
      status: 'active',
      functional: false,
      aliases: [],
    });
    expect(detail.find((o) => o.kind === 'add_group')).toMatchObject({
      name: 'Team, the',
      group: { kind: 'distribution', email: `team@${DOMAIN}`, aliases: [], memberCount: 2 },
    });

    const runCsv = await call('GET', `/sync/runs/${run.runId}/changes.csv`);
    expect(runCsv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(runCsv.headers['content-disposition']).toBe(`attachment; filename="sync-run-${run.runId}.csv"`);
    const runLines = runCsv.body.split('\r\n');
    expect(runLines[0]).toBe('category,id,kind,externalId,address,name,outcome,message,detail');
    expect(runLines.filter((l) => l.includes(',applied,'))).toHaveLength(6);
    expect(runCsv.body).toContain(`'=HYPERLINK`);
    expect((await call('GET', '/sync/runs/nope/changes.csv')).statusCode).toBe(404);
  });

  it('records what a removal took away, and who approved the held run and when', async () => {
    emu.tenant.deleteUser(ids[2]!, { permanent: true });
    emu.tenant.deleteGroup(groupId, { permanent: true });
    const before = Date.now();
    const hold = await (await app.sync(orgId)).execute(
      { trigger: 'scheduled', safeguard: HOLD, how: { ...allHow() } },
      'scheduler',
    );
    expect(hold.status).toBe('held');

    const approved = await call('POST', `/sync/runs/${hold.runId}/approve`, {});
    expect(approved.statusCode, approved.body).toBe(200);
    const run = (await call('GET', `/sync/runs/${hold.runId}`)).json();
    // Who started it stays who started it; the decision says who approved it.
    expect(run.actor).toBe('scheduler');
    expect(run.summary.decision).toMatchObject({ action: 'approved', by: actor });
    expect(Date.parse(run.summary.decision.at)).toBeGreaterThanOrEqual(before - 1000);
    expect(run.detail.find((o: ChangeOutcome) => o.kind === 'remove_user')).toMatchObject({
      address: `user2@${DOMAIN}`,
      outcome: 'applied',
      reason: 'deleted',
      why: expect.any(String),
      user: { email: `user2@${DOMAIN}`, role: 'end_user', status: 'active', aliases: [] },
    });
    expect(run.detail.find((o: ChangeOutcome) => o.kind === 'remove_group')).toMatchObject({
      name: 'Team, the',
      group: { kind: 'distribution', email: `team@${DOMAIN}`, memberCount: 2 },
    });
    // The list shows the decision too.
    const listed = (await call('GET', '/sync/runs')).json().find((r: { id: string }) => r.id === hold.runId);
    expect(listed.summary.decision).toMatchObject({ action: 'approved', by: actor });

    // The approved run's plan is let go, like a dismissed one's, and says where to look instead.
    const plan = await call('GET', `/sync/plans/${hold.planId}`);
    expect(plan.statusCode).toBe(404);
    expect(plan.json().error.message).toContain(`applied by run ${hold.runId}`);
  });

  it('records who dismissed a held run', async () => {
    emu.tenant.deleteUser(ids[1]!, { permanent: true });
    const hold = await held();
    expect(hold.status).toBe('held');
    // Read while held: the plan reader's cache must not outlive the plan's expiry.
    expect((await call('GET', `/sync/plans/${hold.planId}`)).statusCode).toBe(200);
    expect((await call('POST', `/sync/runs/${hold.runId}/dismiss`)).statusCode).toBe(200);
    const run = (await call('GET', `/sync/runs/${hold.runId}`)).json();
    expect(run.status).toBe('dismissed');
    expect(run.actor).toBe('scheduler');
    expect(run.summary.decision).toMatchObject({ action: 'dismissed', by: actor });
    expect(run.summary.held.message).toBe('held by the test');
    const plan = await call('GET', `/sync/plans/${hold.planId}`);
    expect(plan.statusCode).toBe(404);
    expect(plan.json().error.message).toContain('dismissed');
  });

  it('filters runs by trigger, status and start date, and refuses bad filters by name', async () => {
    const ids = async (q: string) => {
      const res = await call('GET', `/sync/runs?${q}`);
      expect(res.statusCode, `${q}: ${res.body}`).toBe(200);
      return (res.json() as { id: string; trigger: string; status: string }[]).map((r) => r.status);
    };
    expect(await ids('')).toHaveLength(3);
    expect(await ids('trigger=manual')).toEqual(['succeeded']);
    expect(await ids('trigger=scheduled')).toEqual(['dismissed', 'succeeded']);
    expect(await ids('status=dismissed')).toEqual(['dismissed']);
    expect(await ids('trigger=manual&status=dismissed')).toEqual([]);
    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    expect(await ids(`from=${today}&to=${today}`)).toHaveLength(3);
    expect(await ids(`from=${tomorrow}`)).toEqual([]);
    expect(await ids(`to=${yesterday}`)).toEqual([]);
    expect(await ids(`from=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`)).toEqual(
      [],
    );
    expect(await ids(`to=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toHaveLength(
      3,
    );

    for (const [q, field] of [
      ['trigger=hourly', 'trigger'],
      ['status=done', 'status'],
      ['from=yesterday', 'from'],
      ['from=2025-02-30', 'from'],
      ['to=2025-06-01T10:00', 'to'],
      [`from=${today}&to=${yesterday}`, 'to'],
      ['colour=red', undefined],
    ] as const) {
      const res = await call('GET', `/sync/runs?${q}`);
      expect(res.statusCode, q).toBe(400);
      if (field) expect(res.json().error.field, q).toBe(field);
      expect(res.json().error.message.length, q).toBeGreaterThan(10);
    }
    expect((await call('GET', '/sync/runs?status=hmm')).json().error.message).toContain('succeeded');
  });

  it('names users, groups and runs in the audit log, so a deleted one still reads well', async () => {
    const user = (await call('POST', '/users', { email: `temp@${DOMAIN}` })).json();
    expect((await call('DELETE', `/users/${user.id}`)).statusCode).toBe(200);
    const audit = (await call('GET', '/audit?limit=50')).json() as {
      action: string;
      targetType: string;
      targetId: string | null;
      targetLabel: string | null;
      detail: unknown;
    }[];
    const deleted = audit.find((e) => e.action === 'user.delete')!;
    expect(deleted).toMatchObject({ targetId: user.id, targetLabel: `temp@${DOMAIN}` });
    expect(audit.find((e) => e.action === 'user.create')?.targetLabel).toBe(`temp@${DOMAIN}`);
    const approve = audit.find((e) => e.action === 'sync.approve')!;
    expect(approve.targetLabel).toMatch(/^scheduled sync of \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    // The label is not repeated in the detail.
    expect(JSON.stringify(approve.detail)).not.toContain('targetLabel');
    expect(audit.find((e) => e.action === 'sync.dismiss')?.detail).toBeNull();
    expect(audit.find((e) => e.action === 'sync.execute')?.targetLabel).toMatch(/^manual sync of /);

    // An entry written before labels were stored falls back to what its detail named, else the id.
    await app.store.db
      .insertInto('audit_log')
      .values([
        {
          org_id: orgId,
          at: new Date().toISOString(),
          actor: 'old',
          action: 'group.delete',
          target_type: 'group',
          target_id: 'g-old',
          detail: JSON.stringify({ name: 'Old group' }),
        },
        {
          org_id: orgId,
          at: new Date().toISOString(),
          actor: 'old',
          action: 'sync.dismiss',
          target_type: 'sync_run',
          target_id: 'r-old',
          detail: null,
        },
      ])
      .execute();
    const again = (await call('GET', '/audit?limit=2')).json();
    expect(again.map((e: { targetLabel: string | null }) => e.targetLabel).sort()).toEqual([
      'Old group',
      null,
    ]);
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
