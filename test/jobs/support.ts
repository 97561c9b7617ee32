import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import type { Emulator } from '../../src/emulator/index.js';
import type { JobsConfig } from '../../src/jobs/config.js';
import { SYNC_QUEUE } from '../../src/jobs/metrics.js';
import { type App, openApp } from '../../src/services/app.js';
import type { Runtime } from '../../src/services/clock.js';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from '../support/databases.js';

/** A clock the test moves: no test waits for real hours. */
export class FakeClock implements Runtime {
  t = Date.now();
  now = () => new Date(this.t);
  newId = () => randomUUID();
  advance(hours: number): void {
    this.t += hours * 3_600_000;
  }
}

/** Fast timings for tests: quick polling, maintenance and retries. */
export function testJobsConfig(overrides: Partial<JobsConfig> = {}): JobsConfig {
  return {
    ...loadConfig({}, false).jobs,
    schedulerIntervalSeconds: 1,
    pollIntervalSeconds: 0.5,
    maintenanceIntervalSeconds: 1,
    retryDelaySeconds: 1,
    jobTimeoutSeconds: 20,
    allowPrivateWebhooks: true,
    ...overrides,
  };
}

export const silentLogger = pino({ level: 'silent' });

/** A migrated App on a fresh database, with the given clock. */
export async function createJobsApp(
  kind: DatabaseKind,
  runtime?: Runtime,
): Promise<{ app: App; db: TestDatabase; close(): Promise<void> }> {
  const db = await createTestDatabase(kind);
  const app = await openApp(loadConfig({ ...db.env, ENTRASYNC_ALLOW_CUSTOM_CLOUD: '1' }), runtime);
  return {
    app,
    db,
    async close() {
      await app.close();
      await db.drop();
    },
  };
}

/** Adds `n` member users with mailboxes in `domain` to the emulated tenant; returns their ids. */
export function addUsers(emu: Emulator, domain: string, n: number, prefix = 'user'): string[] {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const address = `${prefix}${i}@${domain}`;
    const user = emu.tenant.addUser({
      displayName: `${prefix} ${i} ${domain}`,
      givenName: prefix,
      surname: String(i),
      userPrincipalName: address,
      mail: address,
      proxyAddresses: [`SMTP:${address}`],
    });
    ids.push(user.id as string);
  }
  return ids;
}

/** Creates an organization for `domain` connected to the emulator, syncing every `frequencyHours`. */
export async function connectOrg(
  app: App,
  emu: Emulator,
  domain: string,
  options: {
    frequencyHours: number | null;
    secret?: string;
    removeUsers?: boolean;
    secretExpiresAt?: string;
  },
): Promise<string> {
  const org = await app.orgs.create({ name: domain, domains: [domain] }, 'test');
  const syncApp = emu.info.apps.find((a) => a.displayName === 'entrasync-sync')!;
  await app.entraSettings(org.id).set(
    {
      tenant: emu.info.tenantId,
      clientId: syncApp.clientId,
      clientSecret: options.secret ?? syncApp.clientSecret,
      frequencyHours: options.frequencyHours,
      how: { removeUsers: options.removeUsers ?? false },
      secretExpiresAt: options.secretExpiresAt ?? null,
      authorityHost: emu.info.authorityHost,
      graphUrl: emu.info.graphBaseUrl,
      caPem: emu.info.caPem,
    },
    { allowCustomEndpoints: true, byOperator: true },
    'test',
  );
  return org.id;
}

/** Polls until `check` returns a value (not undefined/false), or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Jobs still waiting or running in pg-boss's queue. */
export async function pendingJobs(app: App): Promise<number> {
  const result = await sql<{ n: string }>`
    select count(*) as n from pgboss.job where name = ${SYNC_QUEUE} and state in ('created', 'retry', 'active')
  `.execute(app.store.db);
  return Number(result.rows[0]?.n ?? 0);
}

/** Runs of an organization, oldest first. */
export async function runsOf(app: App, orgId: string) {
  return (await (await app.sync(orgId)).runs(500)).reverse();
}
