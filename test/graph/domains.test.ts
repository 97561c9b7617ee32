/**
 * The tenant's domains through the connector against the emulator (medium tier: real MSAL, real
 * TLS): tenantDomains() and the connection test's optional `domains` step, with and without
 * Domain.Read.All.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, type EmulatorApp, startEmulator } from '../../src/emulator/index.js';
import { type GraphConnection, GraphConnector, GraphError } from '../../src/graph/index.js';

let emu: Emulator;
beforeAll(async () => {
  // Seed 1: contoso.com (default), fabrikam.com, contoso.onmicrosoft.com.
  emu = await startEmulator({ users: 20, groups: 3, seed: 1, throttle: false });
});
afterAll(() => emu?.close());

const noWait = { sleep: async () => undefined };

function appNamed(name: string): EmulatorApp {
  const app = emu.info.apps.find((a) => a.displayName === name);
  if (!app) throw new Error(`the emulator generates no app named ${name}`);
  return app;
}

function connection(app: EmulatorApp): GraphConnection {
  return {
    tenant: emu.info.tenantDomains[0]!,
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    cloud: 'global',
    authorityHost: emu.info.authorityHost,
    graphUrl: emu.info.graphBaseUrl,
    caPem: emu.info.caPem,
  };
}

/** Runs `work` with a connector of `app`, closing it afterwards. */
async function using<T>(app: EmulatorApp, work: (c: GraphConnector) => Promise<T>): Promise<T> {
  const c = new GraphConnector(connection(app), noWait);
  try {
    return await work(c);
  } finally {
    await c.close();
  }
}

const domainsStep = (app: EmulatorApp) =>
  using(app, async (c) => {
    const report = await c.diagnose();
    return { report, step: report.steps.find((s) => s.step === 'domains') };
  });

describe('tenantDomains()', () => {
  it('returns every domain, lower-cased, verified or not — and a domain once its owner verified it', async () => {
    const sync = appNamed('entrasync-sync');
    emu.tenant.addDomain('Contoso.ORG');
    emu.resetStats();
    expect(await using(sync, (c) => c.tenantDomains())).toEqual([
      { name: 'contoso.com', isVerified: true },
      { name: 'fabrikam.com', isVerified: true },
      { name: 'contoso.onmicrosoft.com', isVerified: true },
      { name: 'contoso.org', isVerified: false },
    ]);
    expect(emu.stats().byPath['GET /v1.0/domains']).toBe(1);
    emu.tenant.verifyDomain('contoso.org');
    expect(await using(sync, (c) => c.tenantDomains())).toContainEqual({
      name: 'contoso.org',
      isVerified: true,
    });
  });

  it('Directory.Read.All is enough', async () => {
    const reader = emu.tenant.addApp({ roles: ['Directory.Read.All'], displayName: 'directory reader' });
    expect(await using(reader, (c) => c.tenantDomains())).toHaveLength(4);
  });

  it('without Domain.Read.All: permission_denied, the hint naming Domain.Read.All and the consent link', async () => {
    const app = appNamed('entrasync-directory-only');
    const { error, consentUrl } = await using(app, async (c) => ({
      error: await c.tenantDomains().catch((e: unknown) => e),
      consentUrl: c.consentUrl,
    }));
    expect(error).toBeInstanceOf(GraphError);
    const e = error as GraphError;
    expect(e.code).toBe('permission_denied');
    expect(e.status).toBe(403);
    expect(e.detail).toBe('[Authorization_RequestDenied] Insufficient privileges to complete the operation.');
    expect(e.hint).toContain(
      'missing the Microsoft Graph application permission Domain.Read.All (granted: User.Read.All, GroupMember.Read.All)',
    );
    expect(e.hint).toContain('Application permissions → Domain.Read.All, then grant admin consent');
    expect(e.hint).toContain(consentUrl);
    expect(e.hint).not.toContain('User.Read.All and GroupMember.Read.All');
  });

  it('a 403 although the token carries the permission: consent may still be propagating', async () => {
    emu.failNext({ on: 'graph', status: 403, code: 'Authorization_RequestDenied', urlContains: '/domains' });
    const error = (await using(appNamed('entrasync-sync'), (c) =>
      c.tenantDomains().catch((e: unknown) => e),
    )) as GraphError;
    expect(error.code).toBe('permission_denied');
    expect(error.hint).toContain('which cover Domain.Read.All, yet Microsoft Graph denied access');
    expect(error.hint).toContain('propagating');
  });
});

describe("diagnose()'s domains step", () => {
  it('granted: ok, naming the verified domains and those not verified', async () => {
    emu.tenant.addDomain('fabrikam.org');
    const { report, step } = await domainsStep(appNamed('entrasync-sync'));
    expect(report.ok).toBe(true);
    expect(report.steps.map((s) => s.step)).toEqual([
      'token',
      'tenant',
      'users',
      'groups',
      'members',
      'mailboxes',
      'domains',
    ]);
    expect(step).toEqual({
      step: 'domains',
      ok: true,
      message:
        'Domains can be read: verified contoso.com, fabrikam.com, contoso.onmicrosoft.com, contoso.org; not verified: fabrikam.org.',
    });
  });

  it('not granted: still ok, saying what it is for and how to grant it, without reading the domains', async () => {
    emu.resetStats();
    const { report, step } = await domainsStep(appNamed('entrasync-directory-only'));
    expect(report.ok).toBe(true);
    expect(step).toMatchObject({ step: 'domains', ok: true });
    expect(step?.message).toBe(
      "Domain.Read.All is not granted (the token does not carry it). It is optional, and needed to prove the organization's domains by the tenant's verified domains (otherwise by a DNS TXT record).",
    );
    expect(step?.hint).toContain(
      'Optional: an administrator can add it under App registrations → the app → API permissions → Add a permission → Microsoft Graph → Application permissions → Domain.Read.All, then grant admin consent',
    );
    expect(step?.hint).toContain(report.consentUrl);
    expect(emu.stats().byPath['GET /v1.0/domains']).toBeUndefined();
  });

  it('denied although granted, or failing: still ok, saying so', async () => {
    emu.failNext({ on: 'graph', status: 403, code: 'Authorization_RequestDenied', urlContains: '/domains' });
    const denied = await domainsStep(appNamed('entrasync-sync'));
    expect(denied.report.ok).toBe(true);
    expect(denied.step?.ok).toBe(true);
    expect(denied.step?.message).toMatch(
      /^Domain\.Read\.All is not in effect: Microsoft Graph denied reading the domains \(\[Authorization_RequestDenied\][^)]*\)\. It is optional/,
    );
    expect(denied.step?.hint).toContain('propagating');

    emu.failNext({ on: 'graph', status: 500, urlContains: '/domains' });
    const failed = await domainsStep(appNamed('entrasync-sync'));
    expect(failed.report.ok).toBe(true);
    expect(failed.step).toMatchObject({ ok: true, code: 'graph_error' });
    expect(failed.step?.message).toMatch(/^Reading the domains failed: \[InternalServerError\]/);
  });

  it('an app without consent fails the directory steps, never this one', async () => {
    const { report, step } = await domainsStep(appNamed('entrasync-no-consent'));
    expect(report.ok).toBe(false);
    expect(step).toMatchObject({ ok: true });
    expect(step?.message).toContain('Domain.Read.All is not granted');
  });

  it('not run when the token step failed', async () => {
    const expired = appNamed('entrasync-expired');
    const { report, step } = await domainsStep(expired);
    expect(report.ok).toBe(false);
    expect(step).toEqual({
      step: 'domains',
      ok: true,
      skipped: true,
      message: 'not run: an earlier step failed',
    });
  });
});
