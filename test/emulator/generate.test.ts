/** The seeded tenant generator: deterministic, realistic, and able to load 100k users. */
import { describe, expect, it } from 'vitest';
import { generateTenant, startEmulator } from '../../src/emulator/index.js';

describe('generateTenant', () => {
  it('is deterministic for a seed, and different seeds make different tenants with different domains', () => {
    expect(generateTenant({ users: 300, groups: 30, seed: 42 })).toEqual(
      generateTenant({ users: 300, groups: 30, seed: 42 }),
    );
    const a = generateTenant({ users: 10, groups: 2, seed: 1 });
    const b = generateTenant({ users: 10, groups: 2, seed: 2 });
    expect(a.domains).toEqual(['contoso.com', 'fabrikam.com', 'contoso.onmicrosoft.com']);
    expect(b.tenantId).not.toBe(a.tenantId);
    expect(b.domains.filter((d) => a.domains.includes(d))).toEqual([]);
    expect(generateTenant({ users: 1, groups: 0, seed: 1, domainPrefix: 'acme' }).domains).toEqual([
      'acme.com',
      'acme-mail.com',
      'acme.onmicrosoft.com',
    ]);
  });

  it('produces the variety a sync must handle', () => {
    const t = generateTenant({ users: 3000, groups: 200, seed: 3 });
    const [primary, , initial] = t.domains;
    const proxies = t.users.flatMap((u) => u.proxyAddresses as string[]);
    const guests = t.users.filter((u) => u.userType === 'Guest');
    expect(guests.length).toBeGreaterThan(30);
    expect(guests.every((g) => String(g.userPrincipalName).endsWith(`#EXT#@${initial}`))).toBe(true);
    expect(
      t.users.filter((u) => u.accountEnabled === false && u.userType === 'Member').length,
    ).toBeGreaterThan(50);
    expect(
      t.users.filter((u) => u.mail === null && (u.proxyAddresses as string[]).length === 0).length,
    ).toBeGreaterThan(20);
    expect(t.users.some((u) => String(u.displayName).includes('Shared Mailbox'))).toBe(true);
    expect(t.users.some((u) => /Room/.test(String(u.displayName)))).toBe(true);
    for (const prefix of ['SMTP:', 'smtp:', 'X500:', 'x500:', 'SIP:', 'sip:', 'SPO:'])
      expect(proxies.some((p) => p.startsWith(prefix))).toBe(true);
    const primaryOf = (u: (typeof t.users)[number]) =>
      (u.proxyAddresses as string[]).find((p) => p.startsWith('SMTP:'))?.slice(5);
    // mail on the other custom domain while the primary SMTP address stays on the UPN's domain.
    const mailNotPrimary = t.users.filter((u) => u.mail && primaryOf(u) && u.mail !== primaryOf(u));
    expect(mailNotPrimary.length).toBeGreaterThan(10);
    for (const u of mailNotPrimary) {
      expect((u.proxyAddresses as string[]).map((p) => p.toLowerCase())).toContain(`smtp:${u.mail}`);
      expect(String(u.mail).split('@')[1]).not.toBe(primaryOf(u)!.split('@')[1]);
    }
    // The primary listed again as an alias in other letter case.
    const caseDuplicates = t.users.filter((u) => {
      const lower = (u.proxyAddresses as string[]).map((p) => p.toLowerCase());
      return new Set(lower).size < lower.length;
    });
    expect(caseDuplicates.length).toBeGreaterThan(10);
    expect(
      caseDuplicates.every((u) =>
        (u.proxyAddresses as string[]).some(
          (p) =>
            p.startsWith('smtp:') && p.slice(5) !== primaryOf(u) && p.slice(5).toLowerCase() === primaryOf(u),
        ),
      ),
    ).toBe(true);
    expect(proxies.some((p) => p.startsWith('smtp:') && p.endsWith(`@${initial}`))).toBe(true);
    expect(proxies.some((p) => p.startsWith('SMTP:') && p.endsWith(`@${primary}`))).toBe(true);
    // proxyAddresses are unique across users, groups and contacts (docs/graph-facts.md §2.3); one object may
    // list its own address twice in other letter case.
    const smtp = [...t.users, ...t.groups, ...(t.contacts ?? [])].flatMap((o) => [
      ...new Set(
        (o.proxyAddresses as string[])
          .filter((p) => p.toLowerCase().startsWith('smtp:'))
          .map((p) => p.slice(5).toLowerCase()),
      ),
    ]);
    expect(new Set(smtp).size).toBe(smtp.length);
    const kind = (g: (typeof t.groups)[number]) => {
      const types = g.groupTypes as string[];
      if (types.includes('DynamicMembership')) return 'dynamic';
      if (types.includes('Unified')) return 'm365';
      if (g.mailEnabled && g.securityEnabled) return 'mail-enabled security';
      return g.mailEnabled ? 'distribution' : 'security';
    };
    expect(new Set(t.groups.map(kind))).toEqual(
      new Set(['dynamic', 'm365', 'mail-enabled security', 'distribution', 'security']),
    );
    const ids = (xs: Array<{ id: string }> | undefined) => new Set((xs ?? []).map((x) => x.id));
    const groupIds = ids(t.groups);
    const members = t.groups.flatMap((g) => g.members ?? []);
    expect(members.some((m) => groupIds.has(m))).toBe(true);
    expect(members.some((m) => ids(t.contacts).has(m))).toBe(true);
    expect(members.some((m) => ids(t.devices).has(m))).toBe(true);
    expect(t.servicePrincipals?.length).toBeGreaterThan(0);
    expect(members.some((m) => ids(t.servicePrincipals).has(m))).toBe(true);
    expect(members.length / t.users.length).toBeGreaterThan(2);
    expect(members.length / t.users.length).toBeLessThan(3);
    expect(t.apps.map((a) => [a.displayName, a.roles, a.secretExpired])).toEqual([
      [
        'entrasync-sync',
        ['User.Read.All', 'GroupMember.Read.All', 'MailboxSettings.Read', 'Domain.Read.All'],
        false,
      ],
      ['entrasync-no-consent', [], false],
      [
        'entrasync-expired',
        ['User.Read.All', 'GroupMember.Read.All', 'MailboxSettings.Read', 'Domain.Read.All'],
        true,
      ],
      ['entrasync-mailbox', ['User.Read.All', 'GroupMember.Read.All', 'MailboxSettings.Read'], false],
      ['entrasync-directory-only', ['User.Read.All', 'GroupMember.Read.All'], false],
    ]);
  });

  it('generates and loads 100,000 users and 10,000 groups (speed is measured in docs/emulator.md, not here)', async () => {
    const data = generateTenant({ users: 100_000, groups: 10_000, seed: 8 });
    const memberships = data.groups.reduce((n, g) => n + (g.members?.length ?? 0), 0);
    expect(memberships).toBeGreaterThan(200_000);
    expect(memberships).toBeLessThan(300_000);
    const emu = await startEmulator({ tenant: data });
    try {
      expect(emu.tenant.listUsers()).toHaveLength(100_000);
      expect(emu.tenant.listGroups()).toHaveLength(10_000);
    } finally {
      await emu.close();
    }
  }, 60_000);
});
