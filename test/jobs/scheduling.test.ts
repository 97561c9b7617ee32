import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { buildServer } from '../../src/http/server.js';
import { AutomationService } from '../../src/jobs/automation.js';
import { type JobsHandle, startJobs } from '../../src/jobs/index.js';
import { jobMetrics } from '../../src/jobs/metrics.js';
import type { Mailer } from '../../src/jobs/notifier.js';
import { runSyncJob } from '../../src/jobs/runner.js';
import { signWebhook } from '../../src/jobs/webhook.js';
import type { App } from '../../src/services/app.js';
import { JobsRepository } from '../../src/store/jobs-repository.js';
import { DATABASES } from '../support/databases.js';
import {
  addUsers,
  connectOrg,
  createJobsApp,
  FakeClock,
  pendingJobs,
  runsOf,
  silentLogger,
  testJobsConfig,
  waitFor,
} from './support.js';

/**
 * The schedule with an injected clock, on both databases: pg-boss (in this process) on
 * PostgreSQL, the in-process queue on SQLite. The emulator is the Entra tenant.
 */
describe.each(DATABASES)('automatic sync on %s', (kind) => {
  let emu: Emulator;
  let app: App;
  let close: () => Promise<void>;
  let jobs: JobsHandle;
  let server: FastifyInstance;
  let webhook: Server;
  const hooks: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
  const mails: { to: string[]; subject: string; text: string }[] = [];
  const clock = new FakeClock();
  const mailer: Mailer = {
    sendMail: async (m) => {
      mails.push({ to: m.to, subject: m.subject, text: m.text });
    },
  };

  const repo = () => new JobsRepository(app.store.db, app.store.dialect);
  const overview = async (orgId: string) => (await api('GET', `/api/v1/orgs/${orgId}/overview`)).json();
  const settle = async () => {
    if (kind === 'sqlite') return jobs.drain();
    await waitFor(async () => (await pendingJobs(app)) === 0, 30_000, 'the queue to empty');
  };
  const tickAndSettle = async () => {
    const result = await jobs.scheduler!.tick();
    await settle();
    return result;
  };
  let operatorToken: string;
  const api = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
    server.inject({ method, url, headers: { authorization: `Bearer ${operatorToken}` }, payload });

  beforeAll(async () => {
    emu = await startEmulator({ users: 0, groups: 0, seed: 31 });
    ({ app, close } = await createJobsApp(kind, clock));
    jobs = await startJobs(
      app,
      { scheduler: true, worker: true },
      {
        config: testJobsConfig({ publicUrl: 'https://console.example/entrasync' }),
        logger: silentLogger,
        mailer,
        autoTick: false,
      },
    );
    server = await buildServer(app);
    operatorToken = (await app.auth.createApiToken({ name: 'test', orgId: null, createdBy: 'test' })).token;
    webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        hooks.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    await jobs?.stop();
    await server?.close();
    await close?.();
    await emu?.close();
    webhook?.close();
  });

  it('runs due organizations only, and a frequency change re-schedules at once', async () => {
    addUsers(emu, 'sched.example', 3);
    addUsers(emu, 'manual.example', 2);
    const scheduled = await connectOrg(app, emu, 'sched.example', { frequencyHours: 24 });
    const manual = await connectOrg(app, emu, 'manual.example', { frequencyHours: null });
    const first = await tickAndSettle();
    expect(first.due).toContain(scheduled);
    expect(first.due).not.toContain(manual);
    const runs = await runsOf(app, scheduled);
    expect(runs.map((r) => [r.trigger, r.status])).toEqual([['scheduled', 'succeeded']]);
    expect(await runsOf(app, manual)).toEqual([]);
    expect((await (await app.directory(scheduled)).listUsers({ limit: 10, offset: 0 })).items).toHaveLength(
      3,
    );
    const start = Date.parse(runs[0]!.startedAt);
    expect((await overview(scheduled)).nextScheduledSync).toBe(
      new Date(start + 24 * 3_600_000).toISOString(),
    );

    clock.advance(2);
    expect((await tickAndSettle()).due).not.toContain(scheduled);
    await app
      .entraSettings(scheduled)
      .set({ frequencyHours: 1 }, { allowCustomEndpoints: false, byOperator: false }, 'test');
    expect((await overview(scheduled)).nextScheduledSync).toBe(new Date(start + 3_600_000).toISOString());
    expect((await tickAndSettle()).due).toContain(scheduled);
    expect(await runsOf(app, scheduled)).toHaveLength(2);
    // Running the same tick twice enqueues nothing more: the organization was synced since.
    expect((await tickAndSettle()).due).not.toContain(scheduled);
    expect(await runsOf(app, scheduled)).toHaveLength(2);
  });

  it('a failing connection is notified (app, email, signed webhook), shown unhealthy and backs off', async () => {
    const orgId = await connectOrg(app, emu, 'broken.example', {
      frequencyHours: 1,
      secret: 'not-the-right-secret',
    });
    const dir = await app.directory(orgId);
    await dir.addUser({ email: 'admin@broken.example', role: 'org_admin' }, 'test');
    const secret = 'a-long-webhook-signing-secret';
    const port = (webhook.address() as AddressInfo).port;
    await new AutomationService(app, orgId, true).set(
      { webhookUrl: `http://127.0.0.1:${port}/hook`, webhookSecret: secret },
      'test',
    );
    await tickAndSettle();
    let runs = await runsOf(app, orgId);
    expect(runs.map((r) => r.status)).toEqual(['failed']);
    let view = await overview(orgId);
    expect(view.connection).toMatchObject({ healthy: false, consecutiveFailures: 1 });
    expect(view.connection.lastError.message).toBeTruthy();
    expect(view.nextScheduledSync).toBe(new Date(Date.parse(runs[0]!.startedAt) + 3_600_000).toISOString());

    const notes = (await api('GET', `/api/v1/orgs/${orgId}/notifications`)).json();
    expect(notes.map((n: { kind: string }) => n.kind)).toEqual(['sync_failed']);
    const mail = mails.find((m) => m.to.includes('admin@broken.example') && /failed/.test(m.subject));
    // The email and the webhook link to the failed run's page in the console.
    const runUrl = `https://console.example/entrasync/orgs/${orgId}/history/${runs[0]!.id}`;
    expect(mail?.text).toContain(`Open in the console: ${runUrl}`);
    const hook = hooks.find((h) => JSON.parse(h.body).orgId === orgId)!;
    expect(JSON.parse(hook.body)).toMatchObject({ kind: 'sync_failed', consoleUrl: runUrl });
    expect(hook.headers['x-entrasync-signature']).toBe(
      signWebhook(secret, String(hook.headers['x-entrasync-timestamp']), hook.body),
    );
    expect(hook.body).not.toContain(secret);

    // Second failure: the next attempt moves 2 h out (1 → 2 → 4 … → 24 h), and no second notification.
    clock.advance(1);
    await tickAndSettle();
    runs = await runsOf(app, orgId);
    expect(runs.map((r) => r.status)).toEqual(['failed', 'failed']);
    view = await overview(orgId);
    expect(view.connection.consecutiveFailures).toBe(2);
    expect(view.nextScheduledSync).toBe(
      new Date(Date.parse(runs[1]!.startedAt) + 2 * 3_600_000).toISOString(),
    );
    clock.advance(1);
    expect((await tickAndSettle()).due).not.toContain(orgId);
    expect(await runsOf(app, orgId)).toHaveLength(2);
    expect((await api('GET', `/api/v1/orgs/${orgId}/notifications?unread=true`)).json()).toHaveLength(1);
    expect((await api('POST', `/api/v1/orgs/${orgId}/notifications/read`, {})).json()).toEqual({ marked: 1 });
    expect((await api('GET', `/api/v1/orgs/${orgId}/notifications?unread=true`)).json()).toHaveLength(0);
  });

  it('manual syncs set the connection healthy or unhealthy without moving the backoff', async () => {
    addUsers(emu, 'handheld.example', 2);
    const orgId = await connectOrg(app, emu, 'handheld.example', {
      frequencyHours: 6,
      secret: 'not-the-right-secret',
    });
    const manual = () => app.sync(orgId).then((s) => s.execute({ trigger: 'manual' }, 'admin'));
    const startOf = async (runId: string) => Date.parse((await (await app.sync(orgId)).run(runId)).startedAt);
    const hours = (h: number) => h * 3_600_000;

    // A manual failure: unhealthy with its error, but no streak, so no backoff and no notification.
    let result = await manual();
    expect(result.status).toBe('failed');
    let view = await overview(orgId);
    expect(view.connection).toMatchObject({ healthy: false, consecutiveFailures: 0 });
    expect(view.connection.lastError.code).toBe(result.errors[0]!.code);
    expect(view.nextScheduledSync).toBe(new Date((await startOf(result.runId)) + hours(6)).toISOString());
    expect((await manual()).status).toBe('failed');
    expect((await overview(orgId)).connection.consecutiveFailures).toBe(0);
    const notes = () => repo().listNotifications(orgId, { unreadOnly: false, limit: 10, offset: 0 });
    expect(await notes()).toEqual([]);

    // The automatic sync fails too: that starts the streak (and says so once).
    clock.advance(6);
    expect((await tickAndSettle()).due).toContain(orgId);
    expect((await overview(orgId)).connection.consecutiveFailures).toBe(1);
    expect((await notes()).map((n) => n.kind)).toEqual(['sync_failed']);

    // The admin retries by hand during the streak: it does not lengthen it.
    result = await manual();
    expect(result.status).toBe('failed');
    view = await overview(orgId);
    expect(view.connection).toMatchObject({ healthy: false, consecutiveFailures: 1 });
    expect(view.nextScheduledSync).toBe(new Date((await startOf(result.runId)) + hours(1)).toISOString());

    // Fixed and synced by hand: healthy again, and the schedule is back to the frequency.
    const syncApp = emu.info.apps.find((a) => a.displayName === 'entrasync-sync')!;
    await app
      .entraSettings(orgId)
      .set({ clientSecret: syncApp.clientSecret }, { allowCustomEndpoints: true, byOperator: true }, 'test');
    result = await manual();
    expect(result.status).toBe('succeeded');
    view = await overview(orgId);
    expect(view.connection).toMatchObject({ healthy: true, consecutiveFailures: 0, lastError: null });
    expect(view.nextScheduledSync).toBe(new Date((await startOf(result.runId)) + hours(6)).toISOString());
    expect(await notes()).toHaveLength(1);
  });

  it('tells the admins once when an automatic sync takes the organization past its licence', async () => {
    addUsers(emu, 'seats.example', 2);
    const orgId = await connectOrg(app, emu, 'seats.example', { frequencyHours: 1 });
    await app.orgs.setLicensedSeats(orgId, 3, 'test');
    await tickAndSettle();
    const notes = () => repo().listNotifications(orgId, { unreadOnly: false, limit: 10, offset: 0 });
    expect(await notes()).toEqual([]);

    addUsers(emu, 'seats.example', 2, 'newcomer');
    clock.advance(1);
    await tickAndSettle();
    const [run] = (await runsOf(app, orgId)).slice(-1);
    const passed = await notes();
    expect(passed.map((n) => [n.kind, n.runId])).toEqual([['seats_exceeded', run!.id]]);
    expect(passed[0]!.message).toMatch(/from 2 to 4, past the 3 seats/);

    // Still over the licence an hour later: said once, not at every sync.
    addUsers(emu, 'seats.example', 1, 'another');
    clock.advance(1);
    await tickAndSettle();
    expect(await notes()).toHaveLength(1);
  });

  it('holds a mass deletion until approved, and another until dismissed', async () => {
    const ids = addUsers(emu, 'held.example', 20);
    const orgId = await connectOrg(app, emu, 'held.example', { frequencyHours: 1, removeUsers: true });
    await api('PUT', `/api/v1/orgs/${orgId}/automation`, { safeguardMinUsers: 3 });
    await tickAndSettle();
    const users = async () =>
      (await (await app.directory(orgId)).listUsers({ limit: 100, offset: 0 })).items.length;
    expect(await users()).toBe(20);

    // 4 of 20 (20 %) leave: more than 10 % and at least 3 → held, nothing applied.
    for (const id of ids.slice(0, 4)) emu.tenant.deleteUser(id, { permanent: true });
    clock.advance(1);
    await tickAndSettle();
    let runs = await runsOf(app, orgId);
    const held = runs.at(-1)!;
    expect(held.status).toBe('held');
    expect(await users()).toBe(20);
    const view = await overview(orgId);
    expect(view.heldRun).toMatchObject({ runId: held.id });
    expect(view.heldRun.reason).toMatch(/4 of 20/);
    expect(view.nextScheduledSync).toBeNull();
    const notes = await repo().listNotifications(orgId, { unreadOnly: false, limit: 10, offset: 0 });
    expect(notes.map((n) => [n.kind, n.runId])).toEqual([['sync_held', held.id]]);
    // Paused meanwhile: no new automatic run.
    clock.advance(2);
    expect((await tickAndSettle()).due).not.toContain(orgId);

    const approved = await api('POST', `/api/v1/orgs/${orgId}/sync/runs/${held.id}/approve`);
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({
      runId: held.id,
      status: 'succeeded',
      applied: { usersToRemove: 4 },
    });
    expect(await users()).toBe(16);
    expect((await api('POST', `/api/v1/orgs/${orgId}/sync/runs/${held.id}/approve`)).statusCode).toBe(409);
    // Decided: its "waits for approval" notification is read.
    const heldNotes = async (runId: string) =>
      (await repo().listNotifications(orgId, { unreadOnly: true, limit: 10, offset: 0 })).filter(
        (n) => n.runId === runId,
      );
    expect(await heldNotes(held.id)).toEqual([]);

    // Another mass deletion, dismissed: nothing applied.
    for (const id of ids.slice(4, 9)) emu.tenant.deleteUser(id, { permanent: true });
    clock.advance(1);
    await tickAndSettle();
    runs = await runsOf(app, orgId);
    const second = runs.at(-1)!;
    expect(second.status).toBe('held');
    expect(await heldNotes(second.id)).toHaveLength(1);
    const dismissed = await api('POST', `/api/v1/orgs/${orgId}/sync/runs/${second.id}/dismiss`);
    expect(dismissed.statusCode, dismissed.body).toBe(200);
    expect((await (await app.sync(orgId)).run(second.id)).status).toBe('dismissed');
    expect(await heldNotes(second.id)).toEqual([]);
    expect(await users()).toBe(16);
    expect((await overview(orgId)).heldRun).toBeNull();
  });

  it('reminds of the client secret expiry 30, 7 and 1 days before, once each', async () => {
    const day = 24;
    const expiry = new Date(clock.t + 40 * day * 3_600_000).toISOString().slice(0, 10);
    const orgId = await connectOrg(app, emu, 'expiring.example', {
      frequencyHours: null,
      secretExpiresAt: expiry,
    });
    const reminders = async () =>
      (await repo().listNotifications(orgId, { unreadOnly: false, limit: 10, offset: 0 }))
        .filter((n) => n.kind === 'secret_expiring')
        .map((n) => n.title);
    await tickAndSettle();
    expect(await reminders()).toEqual([]);
    const saved = clock.t;
    for (const [daysBefore, count] of [
      [30, 1],
      [7, 2],
      [1, 3],
    ] as const) {
      clock.t = Date.parse(`${expiry}T12:00:00Z`) - daysBefore * day * 3_600_000;
      await tickAndSettle();
      await tickAndSettle();
      expect(await reminders()).toHaveLength(count);
    }
    expect(await reminders()).toEqual([
      'Entra client secret expires in 1 day',
      'Entra client secret expires in 7 days',
      'Entra client secret expires in 30 days',
    ]);
    clock.t = saved;
  });

  it('says the days actually left when a reminder step is reached late', async () => {
    const expiry = new Date(clock.t + 19 * 24 * 3_600_000).toISOString().slice(0, 10);
    const orgId = await connectOrg(app, emu, 'late-reminder.example', {
      frequencyHours: null,
      secretExpiresAt: expiry,
    });
    await tickAndSettle();
    const [reminder] = (
      await repo().listNotifications(orgId, { unreadOnly: false, limit: 10, offset: 0 })
    ).filter((n) => n.kind === 'secret_expiring');
    expect(reminder?.title).toBe('Entra client secret expires in 19 days');
    expect(reminder?.message).toContain(`expires on ${expiry}, in 19 days`);
  });

  it('refuses a manual sync while an automatic one runs (and the other way round)', async () => {
    addUsers(emu, 'busy.example', 5);
    const orgId = await connectOrg(app, emu, 'busy.example', { frequencyHours: 6 });
    emu.setLatency(300);
    try {
      const automatic = runSyncJob(
        app,
        { orgId, dueAt: clock.now().toISOString() },
        { jobId: 'job-busy', attempt: 0 },
        { logger: silentLogger, notifier: jobs.notifier, metrics: jobMetrics(app) },
      );
      await waitFor(
        async () => (await runsOf(app, orgId)).some((r) => r.status === 'running'),
        10_000,
        'a run',
      );
      const manual = (await app.sync(orgId)).execute({ trigger: 'manual' }, 'admin');
      await expect(manual).rejects.toThrow(/already running \(scheduled sync by scheduler/);
      expect(await automatic).toMatchObject({ kind: 'ran', status: 'succeeded' });

      clock.advance(7);
      const manual2 = (await app.sync(orgId)).execute({ trigger: 'manual' }, 'admin');
      await waitFor(
        async () => (await runsOf(app, orgId)).some((r) => r.status === 'running'),
        10_000,
        'a run',
      );
      const outcome = await runSyncJob(
        app,
        { orgId, dueAt: new Date(clock.t - 3_600_000).toISOString() },
        { jobId: 'job-busy-2', attempt: 0 },
        { logger: silentLogger, notifier: jobs.notifier, metrics: jobMetrics(app) },
      );
      // The manual run started after the job fell due: it counts as this period's sync.
      expect(outcome.kind === 'skipped' || outcome.kind === 'busy').toBe(true);
      expect((await manual2).status).toBe('succeeded');
    } finally {
      emu.setLatency(0);
    }
  });

  it('exposes Prometheus metrics to operators', async () => {
    expect((await server.inject('/metrics')).statusCode).toBe(401);
    const res = await api('GET', '/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/entrasync_sync_runs\{status="succeeded",trigger="scheduled"\} \d+/);
    expect(res.body).toMatch(/entrasync_sync_runs_total\{status="failed",trigger="scheduled"\} \d+/);
    expect(res.body).toContain('entrasync_sync_run_duration_seconds_bucket');
    expect(res.body).toMatch(/entrasync_graph_requests_total \d+/);
    expect(res.body).toMatch(/entrasync_queue_depth 0/);
    expect(res.body).toMatch(/entrasync_orgs_due \d+/);
  });
});
