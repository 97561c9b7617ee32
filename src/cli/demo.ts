import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type Emulator, startEmulator } from '../emulator/index.js';
import type { App } from '../services/app.js';
import { hashPassword } from '../services/auth.js';

const DEMO_NAME = 'Demo Company (emulated Entra tenant)';

/** What `serve` tells about the demo (src/cli/sign-in.ts prints it). */
export interface Demo {
  emulator: Emulator;
  org: { name: string; domains: string[] };
  /** The demo organization's admin; `password` only on the start that created it. */
  admin: { email: string; password: string | undefined };
}

/**
 * The demo of `npm start`: a built-in emulator tenant of a few hundred users and an
 * organization already connected to it, with an org admin, so a newcomer can run a first manual
 * sync within a minute. Idempotent across restarts: the same seed gives the same tenant and app,
 * and the connection is re-pointed at this start's emulator port.
 */
export async function startDemo(app: App): Promise<Demo> {
  const emulator = await startEmulator({
    users: 300,
    groups: 30,
    seed: 1,
    stateDir: join(app.config.dataDir, 'demo-emulator'),
  });
  const domains = emulator.info.tenantDomains.filter((d) => !d.endsWith('.onmicrosoft.com'));
  const existing = (await app.orgs.list()).find((o) => o.domains.includes(domains[0]!));
  const org = existing ?? (await app.orgs.create({ name: DEMO_NAME, domains }, 'demo'));
  const syncApp = emulator.info.apps.find((a) => a.displayName === 'entrasync-sync')!;
  const settings = app.entraSettings(org.id);
  const configured = (await settings.get()).configured;
  await settings.set(
    {
      ...(configured
        ? {}
        : { tenant: domains[0], clientId: syncApp.clientId, clientSecret: syncApp.clientSecret }),
      authorityHost: emulator.info.authorityHost,
      graphUrl: emulator.info.graphBaseUrl,
      caPem: emulator.info.caPem,
    },
    // The demo's own emulator on loopback: the operator's choice, made by this process.
    { allowCustomEndpoints: true, byOperator: true },
    'demo',
  );
  const adminEmail = `admin@${domains[0]}`;
  const dir = await app.directory(org.id);
  const hasAdmin = await dir.repo.findUserByAddress(adminEmail);
  let password: string | undefined;
  if (!hasAdmin) {
    const admin = await dir.addUser(
      { email: adminEmail, role: 'org_admin', displayName: 'Demo Admin' },
      'demo',
    );
    password = randomBytes(12).toString('base64url');
    await dir.setPasswordHash(admin.id, await hashPassword(password), 'demo');
  }
  return { emulator, org: { name: org.name, domains }, admin: { email: adminEmail, password } };
}
