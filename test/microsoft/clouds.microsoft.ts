/**
 * The as-Microsoft tier (`npm run test:microsoft`): the product, unchanged and configured as a
 * customer configures it — tenant, client ID, key and cloud, no custom endpoint, no CA file —
 * reaches Microsoft's own host names, which this private network namespace (tools/as-microsoft.ts)
 * sends to an emulator answering as that cloud. Every link it follows, every issuer and header,
 * names Microsoft's hosts; nothing points at 127.0.0.1.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { Client, PageIterator } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMULATOR_CLOUDS, type EmulatorCloud, MICROSOFT_CLOUD_HOSTS } from '../../src/emulator/index.js';
import { entrasync } from '../support/cli.js';

const STATE = process.env.ENTRASYNC_AS_MICROSOFT_STATE;
if (!STATE) throw new Error('run this tier through `npm run test:microsoft` (tools/as-microsoft.ts)');
const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts');

/** What `entrasync emulator --json` prints. */
interface EmulatorLine {
  authorityHost: string;
  graphBaseUrl: string;
  hosts: string[];
  cloud: string;
  tenantId: string;
  tenantDomains: string[];
  apps: { clientId: string; clientSecret: string; displayName: string }[];
  adminUrl: string;
}

interface Change {
  id: string;
  address?: string;
  name?: string;
}
interface PreviewJson {
  planId: string;
  read: { mode: string };
  usersToAdd: Change[];
  usersToUpdate: Change[];
  groupsToAdd: Change[];
}

/** Starts `entrasync emulator --as-microsoft` on 127.0.0.1:443 with the tier's CA. */
async function startEmulatorProcess(
  cloud: EmulatorCloud,
): Promise<{ info: EmulatorLine; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      MAIN,
      'emulator',
      '--as-microsoft',
      '--cloud',
      cloud,
      '--state-dir',
      STATE!,
      // Enough users that every seed has shared, room and equipment mailboxes (a few per cent).
      '--users',
      '250',
      '--groups',
      '8',
      '--seed',
      String(EMULATOR_CLOUDS.indexOf(cloud) + 11),
      '--json',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const line = await new Promise<string>((resolveLine, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolveLine(out.split('\n')[0]!);
    });
    child.once('exit', (code) => reject(new Error(`emulator exited ${code}: ${stderr}`)));
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    info: JSON.parse(line) as EmulatorLine,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

describe.each(EMULATOR_CLOUDS)('the product as a customer configures it, on the %s cloud', (cloud) => {
  const own = MICROSOFT_CLOUD_HOSTS[cloud];
  const dataDir = mkdtempSync(join(tmpdir(), `entrasync-${cloud}-`));
  const env = { DATABASE_URL: '', DATA_DIR: dataDir, ENTRASYNC_ALLOW_CUSTOM_CLOUD: '' };
  const run = (args: string[], input?: string) => entrasync(args, env, input);
  let emulator: Awaited<ReturnType<typeof startEmulatorProcess>>;
  let info: EmulatorLine;
  let org: string;
  let sync: EmulatorLine['apps'][number];
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${info.adminUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect(res.ok, `${method} ${path}: ${res.status}`).toBe(true);
    return res.status === 204 ? undefined : ((await res.json()) as Record<string, unknown>);
  };

  beforeAll(async () => {
    emulator = await startEmulatorProcess(cloud);
    info = emulator.info;
    sync = info.apps.find((a) => a.displayName === 'entrasync-sync')!;
    org = info.tenantDomains[0]!;
  });
  afterAll(async () => {
    await emulator?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers as the cloud's own hosts, which lead here", async () => {
    expect(info.cloud).toBe(cloud);
    expect(info.hosts).toEqual([...new Set([...own.login, ...own.graph])]);
    expect(info.authorityHost).toBe(`https://${own.login[0]}`);
    expect(info.graphBaseUrl).toBe(`https://${own.graph[0]}`);
    for (const host of info.hosts) expect((await lookup(host)).address).toBe('127.0.0.1');
  });

  it('entra set with only tenant, client ID, key and cloud; entra test passes', async () => {
    const created = await run([
      'org',
      'create',
      '--name',
      cloud,
      '--domain',
      org,
      '--domain',
      info.tenantDomains[1]!,
    ]);
    expect(created.code, created.stderr).toBe(0);
    const set = await run(
      [
        'entra',
        'set',
        '--org',
        org,
        '--tenant',
        info.tenantDomains.at(-1)!,
        '--client-id',
        sync.clientId,
        '--client-secret-stdin',
        '--cloud',
        cloud,
        '--json',
      ],
      sync.clientSecret,
    );
    expect(set.code, set.stderr).toBe(0);
    expect(set.json<{ authorityHost: string | null; graphUrl: string | null }>()).toMatchObject({
      authorityHost: null,
      graphUrl: null,
    });
    const test = await run(['entra', 'test', '--org', org, '--json']);
    expect(test.code, test.stdout).toBe(0);
    const report = test.json<{
      ok: boolean;
      tenantId: string;
      consentUrl: string;
      steps: { step: string; ok: boolean }[];
    }>();
    expect(report.steps.map((s) => [s.step, s.ok])).toEqual([
      ['token', true],
      ['tenant', true],
      ['users', true],
      ['groups', true],
      ['members', true],
      ['mailboxes', true],
      ['domains', true],
    ]);
    expect(report.tenantId).toBe(info.tenantId);
    expect(new URL(report.consentUrl).host).toBe(own.login[0]);
  });

  it('previews, syncs, and after a change in Entra syncs again by delta', async () => {
    const dry = await run(['sync', '--org', org, '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    const first = dry.json<PreviewJson>();
    expect(first.read.mode).toBe('full');
    expect(first.usersToAdd.length).toBeGreaterThan(20);
    expect(first.groupsToAdd.length).toBeGreaterThan(0);
    const applied = await run(['sync', '--org', org, '--json']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.json<{ status: string; applied: { usersToAdd: number } }>()).toMatchObject({
      status: 'succeeded',
      applied: { usersToAdd: first.usersToAdd.length },
    });

    // Shared, room and equipment mailboxes have sign-in blocked; read by $batch on the Graph host,
    // they stay deliverable functional accounts.
    const functional = await run(['users', 'list', '--org', org, '--mailbox', 'functional', '--json']);
    const accounts = functional.json<{ status: string; deliverable: boolean; canSignIn: boolean }[]>();
    expect(accounts.length).toBeGreaterThan(0);
    expect(accounts.every((u) => u.status === 'active' && u.deliverable && !u.canSignIn)).toBe(true);

    const address = `new.hire@${org}`;
    await admin('POST', '/users', {
      displayName: 'New Hire',
      givenName: 'New',
      surname: 'Hire',
      userPrincipalName: address,
      mail: address,
      proxyAddresses: [`SMTP:${address}`],
    });
    const renamed = first.usersToAdd[0]!.address!;
    const target = ((await admin('GET', '/users')) as unknown as { id: string; mail: string | null }[]).find(
      (u) => u.mail?.toLowerCase() === renamed,
    )!;
    await admin('PATCH', `/users/${target.id}`, { surname: 'Renamed' });

    const again = await run(['sync', '--org', org, '--dry-run', '--json']);
    expect(again.code, again.stderr).toBe(0);
    const delta = again.json<PreviewJson>();
    expect(delta.read.mode).toBe('delta');
    expect(delta.usersToAdd.map((c) => c.address)).toEqual([address]);
    expect(delta.usersToUpdate.map((c) => c.address)).toEqual([renamed]);
    const executed = await run(['sync', '--org', org, '--plan', delta.planId, '--json']);
    expect(executed.code, executed.stderr).toBe(0);
    const users = await run(['users', 'list', '--org', org, '--json']);
    const listed = users.json<{ email: string; lastName: string | null }[]>();
    expect(listed.map((u) => u.email)).toContain(address);
    expect(listed.find((u) => u.email === renamed)?.lastName).toBe('Renamed');
  });

  it("Microsoft's Graph SDK pages through users and groups delta with members", async () => {
    const cca = new ConfidentialClientApplication({
      auth: {
        clientId: sync.clientId,
        clientSecret: sync.clientSecret,
        authority: `${info.authorityHost}/${info.tenantId}`,
      },
    });
    const client = Client.init({
      baseUrl: `${info.graphBaseUrl}/`,
      authProvider: (done) => {
        cca.acquireTokenByClientCredential({ scopes: [`${info.graphBaseUrl}/.default`] }).then(
          (r) => done(null, r?.accessToken ?? null),
          (error: unknown) => done(error, null),
        );
      },
    });
    const expectedUsers = ((await admin('GET', '/users')) as unknown as unknown[]).length;
    const users: string[] = [];
    const firstUsers = await client.api('/users').select('id,mail').top(7).get();
    await new PageIterator(client, firstUsers, (u: { id: string }) => {
      users.push(u.id);
      return true;
    }).iterate();
    expect(users).toHaveLength(expectedUsers);

    const expectedGroups = (await admin('GET', '/groups')) as unknown as { id: string; members: string[] }[];
    const members = new Map<string, number>();
    const firstGroups = await client.api('/groups/delta').select('id,displayName,members').get();
    const iterator = new PageIterator(
      client,
      firstGroups,
      (g: { id: string; 'members@delta'?: unknown[] }) => {
        members.set(g.id, (members.get(g.id) ?? 0) + (g['members@delta']?.length ?? 0));
        return true;
      },
    );
    await iterator.iterate();
    expect(iterator.getDeltaLink()).toMatch(new RegExp(`^${info.graphBaseUrl}/v1\\.0/groups/delta\\?`));
    expect(new Map(expectedGroups.map((g) => [g.id, g.members.length]))).toEqual(members);
  });
});
