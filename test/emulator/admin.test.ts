/** The admin HTTP API (/_emulator/…) and the `entrasync emulator --json` command. */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { graphGet, tokenFor, trustingAgent } from './support.js';

let emu: Emulator;
let agent: ReturnType<typeof trustingAgent>;
beforeAll(async () => {
  emu = await startEmulator({ users: 20, groups: 3, seed: 2, throttle: false });
  agent = trustingAgent(emu);
});
afterAll(() => emu?.close());

async function admin(method: string, path: string, body?: unknown) {
  const res = await fetch(`${emu.info.adminUrl}${path}`, {
    method,
    dispatcher: agent,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe('admin API', () => {
  it('adds, updates, deletes and restores users and groups, visible through Graph delta', async () => {
    const token = await tokenFor(emu, emu.info.apps[0]!, agent);
    const latest = await graphGet(emu, agent, token, '/users/delta?$deltatoken=latest');
    const u = await admin('POST', '/users', {
      displayName: 'Ada Admin',
      mail: 'ada@northwind.com',
      userPrincipalName: 'ada@northwind.com',
    });
    expect(u.status).toBe(201);
    expect(u.body.proxyAddresses).toEqual(['SMTP:ada@northwind.com']);
    expect((await admin('PATCH', `/users/${u.body.id}`, { jobTitle: 'CTO' })).body.jobTitle).toBe('CTO');
    const g = await admin('POST', '/groups', {
      displayName: 'Admins',
      mail: 'admins@northwind.com',
      mailEnabled: true,
      securityEnabled: true,
    });
    expect((await admin('POST', `/groups/${g.body.id}/members`, { id: u.body.id })).status).toBe(204);
    expect((await admin('GET', `/groups/${g.body.id}/members`)).body).toEqual([u.body.id]);
    const members = await graphGet(emu, agent, token, `/groups/${g.body.id}/members?$select=id,mail`);
    expect(members.body.value).toEqual([
      { '@odata.type': '#microsoft.graph.user', id: u.body.id, mail: 'ada@northwind.com' },
    ]);
    expect((await admin('DELETE', `/users/${u.body.id}`)).status).toBe(204);
    expect((await admin('GET', `/groups/${g.body.id}/members`)).body).toEqual([]);
    const delta = await graphGet(emu, agent, token, latest.body['@odata.deltaLink']);
    expect(delta.body.value).toEqual([{ id: u.body.id, '@removed': { reason: 'changed' } }]);
    expect((await admin('POST', `/users/${u.body.id}/restore`)).status).toBe(200);
    expect((await admin('GET', `/groups/${g.body.id}/members`)).body).toEqual([u.body.id]);
    expect((await admin('PATCH', '/users/0b1f5a9e-0000-4000-8000-000000000000', {})).status).toBe(404);
  });

  it('manages apps and permissions, and expires delta tokens', async () => {
    const app = await admin('POST', '/apps', { roles: [], displayName: 'late-consent' });
    expect(app.body.roles).toEqual([]);
    const noRoles = await tokenFor(emu, app.body, agent);
    expect((await graphGet(emu, agent, noRoles, '/groups?$select=id')).status).toBe(403);
    expect(
      (await admin('POST', `/apps/${app.body.clientId}/roles`, { roles: ['GroupMember.Read.All'] })).body
        .roles,
    ).toEqual(['GroupMember.Read.All']);
    // Like Entra, a new token is needed to see newly granted permissions.
    const granted = await tokenFor(emu, app.body, agent);
    expect((await graphGet(emu, agent, granted, '/groups?$select=id')).status).toBe(200);
    const link = (await graphGet(emu, agent, granted, '/groups/delta?$deltatoken=latest')).body[
      '@odata.deltaLink'
    ];
    expect((await admin('POST', '/expire-delta-tokens', { mode: 'resync' })).status).toBe(204);
    expect((await graphGet(emu, agent, granted, link)).status).toBe(410);
    expect(
      (await admin('GET', '/info')).body.apps.some(
        (a: { clientId: string }) => a.clientId === app.body.clientId,
      ),
    ).toBe(true);
  });

  it('reports and resets request statistics and changes settings at run time', async () => {
    emu.resetStats();
    const token = await tokenFor(emu, emu.info.apps[0]!, agent);
    await graphGet(emu, agent, token, '/users?$top=1');
    const stats = (await admin('GET', '/stats')).body;
    expect(stats.byPath['GET /v1.0/users']).toBe(1);
    expect(stats.byPath['POST /{tenant}/oauth2/v2.0/token']).toBe(1);
    expect((await admin('PUT', '/settings', { latencyMs: 150 })).body.latencyMs).toBe(150);
    const started = Date.now();
    await graphGet(emu, agent, token, '/users?$top=1');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    emu.setLatency(0);
  });
});

describe('entrasync emulator --json', () => {
  it('prints the ready line, serves, and stops on SIGTERM', async () => {
    const script = [
      "import { Command } from 'commander';",
      "import { registerEmulatorCommand } from './src/cli/emulator-command.ts';",
      "const p = new Command('entrasync'); registerEmulatorCommand(p); await p.parseAsync(process.argv);",
    ].join('\n');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        script,
        'x',
        'emulator',
        '--users',
        '50',
        '--groups',
        '5',
        '--seed',
        '3',
        '--json',
      ],
      {
        cwd: new URL('../..', import.meta.url).pathname,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const info = JSON.parse(line);
    expect(Object.keys(info)).toEqual([
      'authorityHost',
      'graphBaseUrl',
      'hosts',
      'caFile',
      'tenantId',
      'tenantDomains',
      'apps',
      'adminUrl',
    ]);
    expect(info.hosts).toEqual([]);
    expect(info.tenantDomains).toEqual(['adatum.com', 'litware.com', 'adatum.onmicrosoft.com']);
    expect(Object.keys(info.apps[0])).toEqual([
      'clientId',
      'clientSecret',
      'roles',
      'secretExpired',
      'displayName',
    ]);
    expect(existsSync(info.caFile)).toBe(true);
    const res = await fetch(`${info.authorityHost}/${info.tenantId}/v2.0/.well-known/openid-configuration`, {
      dispatcher: new Agent({ connect: { ca: readFileSync(info.caFile, 'utf8') } }),
    });
    expect(res.status).toBe(200);
    const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(existsSync(info.caFile)).toBe(false);
  }, 30_000);
});
