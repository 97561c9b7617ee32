import { hasMailbox, type UserPurpose } from './mailbox.js';
import type { EmulatorApp, GraphObject, TenantData } from './tenant.js';

/** Options of the seeded tenant generator. */
export interface GenerateOptions {
  users?: number;
  groups?: number;
  seed?: number;
  /** Overrides the seed-derived company name used for the domains (e.g. 'contoso'). */
  domainPrefix?: string;
}

/** Application permissions that read the directory: users, groups and their members. */
export const DIRECTORY_APP_ROLES = ['User.Read.All', 'GroupMember.Read.All'];
/** The directory, plus Exchange's mailbox purpose (mailboxSettings.userPurpose). */
export const MAILBOX_APP_ROLES = [...DIRECTORY_APP_ROLES, 'MailboxSettings.Read'];
/**
 * Application permissions of the generated sync app: everything entrasync reads, as
 * docs/entra-setup.md has customers grant it — mailbox purposes, and the tenant's domains, which
 * prove the organization's domains.
 */
export const SYNC_APP_ROLES = [...MAILBOX_APP_ROLES, 'Domain.Read.All'];

/** Mailbox kinds drawn from their own stream: the share of rooms, then of ordinary people. */
const RECIPIENT_SHARES = {
  /** Rooms that still allow sign-in; the rest, like every shared and equipment mailbox, are blocked. */
  roomEnabled: 0.1,
  /** People who are instead an equipment mailbox, or whose mailbox Exchange calls linked or others. */
  equipment: 0.003,
  linked: 0.002,
  others: 0.001,
};
const EQUIPMENT = ['Projector', 'Pool Car', 'Camera Kit', 'Laptop Cart'];

const COMPANIES = [
  'contoso',
  'fabrikam',
  'northwind',
  'tailspin',
  'adatum',
  'litware',
  'woodgrove',
  'wingtip',
  'proseware',
  'fourthcoffee',
  'alpineski',
  'margies',
  'lucernepub',
  'humongous',
  'blueyonder',
  'coho',
];
const FIRST = [
  'Adele',
  'Alex',
  'Allan',
  'Bianca',
  'Brian',
  'Cameron',
  'Christie',
  'Debra',
  'Diego',
  'Emily',
  'Enrico',
  'Fatima',
  'Grady',
  'Henrietta',
  'Irvin',
  'Isaiah',
  'Johanna',
  'Joni',
  'Kai',
  'Lee',
  'Lidia',
  'Lynne',
  'Megan',
  'Miriam',
  'Nestor',
  'Nina',
  'Omar',
  'Patti',
  'Pradeep',
  'Raul',
  'Sakura',
  'Sofia',
  'Tomas',
  'Ulrike',
  'Vikram',
  'Wei',
  'Xavier',
  'Yara',
  'Zoe',
  'Jürgen',
  'Zoë',
  'Åsa',
  "O'Neil",
];
const LAST = [
  'Vance',
  'Wilber',
  'Deyoung',
  'Pisani',
  'Johnson',
  'Evans',
  'Cline',
  'Berger',
  'Soto',
  'Braun',
  'Gray',
  'Hernandez',
  'Archambault',
  'Welch',
  'Bowen',
  'Lambert',
  'Lund',
  'Sherman',
  'Holmes',
  'Gonzales',
  'Wilkins',
  'Grey',
  'Bowen',
  'Adams',
  'Patel',
  'Nakamura',
  'Müller',
  'García',
  'Øster',
  'Chen',
  'Kowalski',
  'Okafor',
  'Rossi',
  'Dubois',
  'Novak',
  'Silva',
  'Kim',
  'Ivanova',
  'Haddad',
  'Smith',
];
const DEPARTMENTS = ['Sales', 'Marketing', 'Finance', 'Engineering', 'Legal', 'HR', 'Operations', 'Support'];
const GROUP_WORDS = [
  'Sales',
  'Marketing',
  'Finance',
  'Engineering',
  'Legal',
  'HR',
  'Operations',
  'Support',
  'Project',
  'Leadership',
  'Design',
  'Research',
  'Facilities',
  'Security',
  'Partners',
  'Alumni',
  'Interns',
  'Events',
];
const GUEST_DOMAINS = ['gmail.com', 'outlook.com', 'partner.example', 'vendor.example', 'yahoo.co.jp'];

/** A small, fast deterministic PRNG (sfc32) so a seed always yields the same tenant. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  next(): number {
    return this.u32() / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  guid(): string {
    const a = hex8(this.u32());
    const b = hex8(this.u32());
    const c = this.u32();
    const d = hex8(this.u32());
    // RFC 4122 version 4 / variant 10xx, so the ids look like Entra's.
    const cv = hex8(((c & 0x3fffffff) | 0x80000000) >>> 0);
    return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${cv.slice(0, 4)}-${cv.slice(4)}${d}`;
  }
}

/** The verified domains a seed produces: two custom domains and the initial onmicrosoft domain. */
export function tenantDomains(seed: number, domainPrefix?: string): string[] {
  if (domainPrefix)
    return [`${domainPrefix}.com`, `${domainPrefix}-mail.com`, `${domainPrefix}.onmicrosoft.com`];
  // Seeds take disjoint pairs of names (1: contoso + fabrikam, 2: northwind + tailspin, …); after
  // the list runs out a numeric suffix keeps every seed's domains distinct.
  const pairs = COMPANIES.length / 2;
  const k = Math.max(0, seed - 1);
  const i = (k % pairs) * 2;
  const suffix = k >= pairs ? String(Math.floor(k / pairs)) : '';
  const a = `${COMPANIES[i]!}${suffix}`;
  const b = `${COMPANIES[i + 1]!}${suffix}`;
  return [`${a}.com`, `${b}.com`, `${a}.onmicrosoft.com`];
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
function hex8(n: number): string {
  return HEX[n >>> 24]! + HEX[(n >>> 16) & 0xff]! + HEX[(n >>> 8) & 0xff]! + HEX[n & 0xff]!;
}

const asciiCache = new Map<string, string>();
function ascii(s: string): string {
  let hit = asciiCache.get(s);
  if (hit === undefined) {
    hit = asciiSlow(s);
    asciiCache.set(s, hit);
  }
  return hit;
}

function asciiSlow(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ø/gi, 'o')
    .replace(/[^A-Za-z0-9]/g, '')
    .toLowerCase();
}

function isoDaysAgo(rng: Rng, maxDays: number): string {
  const base = Date.UTC(2026, 0, 1);
  return new Date(base - rng.int(maxDays) * 86400_000 - rng.int(86400) * 1000)
    .toISOString()
    .replace('.000Z', 'Z');
}

/**
 * Generates a realistic tenant deterministically from `seed`: members and guests, disabled and
 * mailbox-less users, shared and room mailboxes, all group kinds incl. dynamic and nested groups,
 * contacts, devices and service principals as members (~2.5 memberships per user), mail that is
 * not the primary SMTP address, case-duplicated aliases, and the three standard apps.
 */
export function generateTenant(options: GenerateOptions = {}): TenantData {
  const nUsers = options.users ?? 200;
  const nGroups = options.groups ?? 20;
  const seed = options.seed ?? 1;
  const rng = new Rng(seed);
  const domains = tenantDomains(seed, options.domainPrefix);
  const [primary, secondary, initial] = domains as [string, string, string];
  const company = primary.split('.')[0]!;
  const tenantId = rng.guid();
  // Quirks of real tenants draw from a stream of their own, so adding one leaves every other
  // generated object (and the tests counting them) as it was.
  const quirk = new Rng(seed ^ 0x5bd1e995);
  // So do mailbox kinds (Exchange's userPurpose): one draw per room and per ordinary person.
  const recipient = new Rng(seed ^ 0x27d4eb2f);
  // Every address handed out is registered, so suffixed names ("x2") cannot collide with a later
  // person whose base name already ends in that suffix: proxyAddresses are tenant-unique.
  const usedAddress = new Set<string>();
  const nextSuffix = new Map<string, number>();
  const unique = (local: string, domain: string): string => {
    const base = `${local}@${domain}`;
    let n = nextSuffix.get(base) ?? 1;
    let candidate = n === 1 ? local : `${local}${n}`;
    while (usedAddress.has(`${candidate}@${domain}`)) {
      n++;
      candidate = `${local}${n}`;
    }
    nextSuffix.set(base, n);
    usedAddress.add(`${candidate}@${domain}`);
    return candidate;
  };

  const users: GraphObject[] = [];
  const memberUserIdx: number[] = [];
  for (let i = 0; i < nUsers; i++) {
    const id = rng.guid();
    const given = rng.pick(FIRST);
    const sur = rng.pick(LAST);
    const roll = rng.next();
    const createdDateTime = isoDaysAgo(rng, 2000);
    const department = rng.pick(DEPARTMENTS);
    if (roll < 0.03) {
      // B2B guest: UPN is the external address mangled with #EXT# in the initial domain.
      const ext = rng.pick(GUEST_DOMAINS);
      const local = unique(`${ascii(given)}.${ascii(sur)}`, ext);
      const extMail = `${local}@${ext}`;
      users.push({
        id,
        displayName: `${given} ${sur} (Guest)`,
        givenName: given,
        surname: sur,
        userPrincipalName: `${local}_${ext}#EXT#@${initial}`,
        mail: extMail,
        mailNickname: `${local}_${ext}#EXT#`,
        proxyAddresses: [`SMTP:${extMail}`],
        otherMails: [extMail],
        accountEnabled: true,
        userType: 'Guest',
        creationType: 'Invitation',
        externalUserState: rng.chance(0.8) ? 'Accepted' : 'PendingAcceptance',
        createdDateTime,
        department: null,
      });
      continue;
    }
    if (roll < 0.04) {
      const name = `${rng.pick(['Conf Room', 'Room', 'Board Room'])} ${sur}`;
      const local = unique(`room.${ascii(sur)}`, primary);
      const mail = `${local}@${primary}`;
      // Rooms once drew their sign-in flag here; the draw stays so every later object is as before.
      rng.next();
      users.push({
        id,
        displayName: name,
        userPrincipalName: mail,
        mail,
        mailNickname: local,
        proxyAddresses: [`SMTP:${mail}`, `smtp:${local}@${initial}`],
        accountEnabled: recipient.chance(RECIPIENT_SHARES.roomEnabled),
        userType: 'Member',
        createdDateTime,
        officeLocation: `Building ${1 + rng.int(9)}`,
        mailboxSettings: { userPurpose: 'room' },
      });
      continue;
    }
    if (roll < 0.055) {
      const word = rng.pick(GROUP_WORDS);
      const local = unique(`${ascii(word)}.shared`, primary);
      const mail = `${local}@${primary}`;
      users.push({
        id,
        displayName: `${word} Shared Mailbox`,
        userPrincipalName: mail,
        mail,
        mailNickname: local,
        proxyAddresses: [`SMTP:${mail}`, `smtp:${local}@${initial}`],
        accountEnabled: false,
        userType: 'Member',
        createdDateTime,
        mailboxSettings: { userPurpose: 'shared' },
      });
      continue;
    }
    const domain = rng.chance(0.8) ? primary : secondary;
    const local = unique(`${ascii(given)}.${ascii(sur)}`, domain);
    const upn = `${local}@${domain}`;
    const onPrem = rng.chance(0.3) ? true : null;
    const user: GraphObject = {
      id,
      displayName: `${given} ${sur}`,
      givenName: given,
      surname: sur,
      userPrincipalName: upn,
      mailNickname: local,
      jobTitle: rng.chance(0.7)
        ? `${department} ${rng.pick(['Manager', 'Specialist', 'Lead', 'Analyst'])}`
        : null,
      department,
      companyName: company,
      officeLocation: rng.chance(0.5) ? `${1 + rng.int(40)}/${1000 + rng.int(9000)}` : null,
      businessPhones: rng.chance(0.6) ? [`+1 425 555 ${String(1000 + rng.int(9000))}`] : [],
      mobilePhone: rng.chance(0.3) ? `+1 206 555 ${String(1000 + rng.int(9000))}` : null,
      preferredLanguage: rng.chance(0.5) ? rng.pick(['en-US', 'de-DE', 'fr-FR', 'ja-JP']) : null,
      usageLocation: rng.pick(['US', 'DE', 'FR', 'JP', 'GB']),
      accountEnabled: rng.chance(0.95),
      userType: 'Member',
      onPremisesSyncEnabled: onPrem,
      createdDateTime,
    };
    if (rng.chance(0.03)) {
      // No Exchange mailbox: no mail, no proxy addresses.
      user.mail = null;
      user.proxyAddresses = [];
    } else {
      const proxies = [`SMTP:${upn}`];
      const aliases = 1 + rng.int(3);
      const first = ascii(given)[0] ?? 'x';
      const candidates = [
        `${first}${ascii(sur)}@${domain}`,
        `${local}@${initial}`,
        `${ascii(given)}@${domain === primary ? secondary : primary}`,
        `${first}.${ascii(sur)}@${primary}`,
      ];
      for (let a = 0; a < aliases; a++) {
        const c = candidates[a]!;
        const [l, d] = c.split('@') as [string, string];
        const ul = unique(l, d);
        proxies.push(`smtp:${ul}@${d}`);
      }
      // Prefixes of non-SMTP types come in either case (docs/graph-facts.md §2.3: only SMTP's case means anything).
      if (rng.chance(0.3))
        proxies.push(
          `${quirk.chance(0.3) ? 'x500' : 'X500'}:/o=ExchangeLabs/ou=Exchange Administrative Group/cn=Recipients/cn=${id.slice(0, 8)}-${local}`,
        );
      if (rng.chance(0.4)) proxies.push(`${quirk.chance(0.3) ? 'sip' : 'SIP'}:${upn}`);
      if (rng.chance(0.2)) proxies.push(`SPO:SPO_${rng.guid()}@SPO_${tenantId}`);
      // The primary again as an alias in other letter case: the same address, listed twice.
      if (quirk.chance(0.03)) proxies.push(`smtp:${capitalized(local)}@${domain}`);
      user.mail = upn;
      // `mail` need not be the primary SMTP address: some mailboxes show an alias on the other custom domain.
      const otherDomain = domain === primary ? secondary : primary;
      const onOther = proxies.find((p) => p.startsWith('smtp:') && p.endsWith(`@${otherDomain}`));
      if (onOther && quirk.chance(0.12)) user.mail = onOther.slice(5);
      user.proxyAddresses = proxies;
    }
    memberUserIdx.push(i);
    // Drawn after every main-stream draw of this person, so the kinds leave the others unchanged.
    const kind = recipient.next();
    const shares = RECIPIENT_SHARES;
    if (kind < shares.equipment) {
      // An equipment mailbox instead of this person (who stays in the same groups, as resources do in room lists).
      const word = recipient.pick(EQUIPMENT);
      const eqLocal = unique(`${ascii(word)}.${ascii(sur)}`, primary);
      const eqMail = `${eqLocal}@${primary}`;
      users.push({
        id,
        displayName: `${word} ${sur}`,
        userPrincipalName: eqMail,
        mail: eqMail,
        mailNickname: eqLocal,
        proxyAddresses: [`SMTP:${eqMail}`, `smtp:${eqLocal}@${initial}`],
        accountEnabled: false,
        userType: 'Member',
        createdDateTime,
        mailboxSettings: { userPurpose: 'equipment' },
      });
      continue;
    }
    const linkedUpTo = shares.equipment + shares.linked;
    const purpose: UserPurpose | null =
      kind < linkedUpTo ? 'linked' : kind < linkedUpTo + shares.others ? 'others' : null;
    // Ordinary mailboxes are 'user' by default; only the exceptions say so.
    if (purpose && hasMailbox(user)) user.mailboxSettings = { userPurpose: purpose };
    users.push(user);
  }

  const contacts: GraphObject[] = [];
  const nContacts = Math.max(2, Math.floor(nUsers / 50));
  for (let i = 0; i < nContacts; i++) {
    const given = rng.pick(FIRST);
    const sur = rng.pick(LAST);
    const ext = rng.pick(GUEST_DOMAINS);
    const local = unique(`${ascii(given)}.${ascii(sur)}`, ext);
    contacts.push({
      id: rng.guid(),
      displayName: `${given} ${sur} (external)`,
      givenName: given,
      surname: sur,
      mail: `${local}@${ext}`,
      mailNickname: local,
      proxyAddresses: [`SMTP:${local}@${ext}`],
    });
  }
  const devices: GraphObject[] = [];
  const nDevices = Math.max(2, Math.floor(nUsers / 100));
  for (let i = 0; i < nDevices; i++) {
    devices.push({
      id: rng.guid(),
      displayName: `${company.toUpperCase()}-${rng.pick(['LT', 'DT', 'PH'])}-${String(10000 + i)}`,
      deviceId: rng.guid(),
      accountEnabled: true,
      operatingSystem: rng.pick(['Windows', 'MacMDM', 'iOS', 'Android']),
      operatingSystemVersion: rng.pick(['10.0.22631.4460', '14.6.1', '17.5', '14']),
    });
  }

  // Apps' service principals can be group members too (docs/graph-facts.md Addendum: members@delta holds them).
  const servicePrincipals: GraphObject[] = [];
  const nServicePrincipals = Math.max(2, Math.floor(nUsers / 200));
  for (let i = 0; i < nServicePrincipals; i++) {
    const name = `${company.charAt(0).toUpperCase()}${company.slice(1)} ${quirk.pick(['Mail Relay', 'HR Connector', 'Scanner', 'Backup', 'Provisioning'])} ${i + 1}`;
    servicePrincipals.push({
      id: quirk.guid(),
      displayName: name,
      appDisplayName: name,
      appId: quirk.guid(),
      accountEnabled: true,
      servicePrincipalType: 'Application',
      servicePrincipalNames: [],
      signInAudience: 'AzureADMyOrg',
      tags: ['WindowsAzureActiveDirectoryIntegratedApp'],
    });
  }

  // Group sizes follow a heavy tail (a few company-wide lists, many small teams) and add up to
  // about 2.5 memberships per user; the largest groups exercise members@delta page splits.
  const groups: Array<GraphObject & { members: string[] }> = [];
  const budget = Math.round(nUsers * 2.5);
  const weights: number[] = [];
  let wsum = 0;
  for (let g = 0; g < nGroups; g++) {
    const w = 1 / (g + 1) ** 0.9;
    weights.push(w);
    wsum += w;
  }
  const kindOf = (g: number): 'dl' | 'mesg' | 'security' | 'unified' | 'dynamic' => {
    if (g === 0) return 'dl';
    const r = (g * 7919 + seed) % 20;
    if (r < 5) return 'dl';
    if (r < 7) return 'mesg';
    if (r < 12) return 'security';
    if (r < 18) return 'unified';
    return 'dynamic';
  };
  const pool = memberUserIdx.length > 0 ? memberUserIdx : users.map((_, i) => i);
  for (let g = 0; g < nGroups; g++) {
    const kind = kindOf(g);
    const word = g === 0 ? 'All Staff' : `${rng.pick(GROUP_WORDS)} ${rng.pick(GROUP_WORDS)} ${g}`;
    const nick = unique(ascii(word) || `group${g}`, primary);
    const mailDomain = rng.chance(0.8) ? primary : secondary;
    const mail = `${nick}@${mailDomain}`;
    const mailProxies = [`SMTP:${mail}`, `smtp:${nick}@${initial}`];
    const group: GraphObject & { members: string[] } = {
      id: rng.guid(),
      displayName: word,
      description: kind === 'unified' ? `${word} team` : null,
      createdDateTime: isoDaysAgo(rng, 2000),
      groupTypes: [],
      mail: null,
      mailEnabled: false,
      mailNickname: nick,
      proxyAddresses: [],
      securityEnabled: false,
      onPremisesSyncEnabled: rng.chance(0.2) ? true : null,
      membershipRule: null,
      membershipRuleProcessingState: null,
      visibility: null,
      members: [],
    };
    if (kind === 'dl') Object.assign(group, { mail, mailEnabled: true, proxyAddresses: mailProxies });
    if (kind === 'mesg')
      Object.assign(group, { mail, mailEnabled: true, securityEnabled: true, proxyAddresses: mailProxies });
    if (kind === 'security')
      Object.assign(group, { securityEnabled: true, mailNickname: rng.chance(0.5) ? nick : '' });
    if (kind === 'unified') {
      Object.assign(group, {
        groupTypes: ['Unified'],
        mail,
        mailEnabled: true,
        securityEnabled: rng.chance(0.3),
        proxyAddresses: [...mailProxies, `SPO:SPO_${rng.guid()}@SPO_${tenantId}`],
        visibility: rng.chance(0.8) ? 'Private' : 'Public',
      });
    }
    if (kind === 'dynamic') {
      const dept = rng.pick(DEPARTMENTS);
      const unified = rng.chance(0.5);
      Object.assign(group, {
        displayName: `Dynamic ${dept} ${g}`,
        groupTypes: unified ? ['Unified', 'DynamicMembership'] : ['DynamicMembership'],
        securityEnabled: !unified,
        mailEnabled: unified,
        mail: unified ? mail : null,
        proxyAddresses: unified ? mailProxies : [],
        membershipRule: `(user.department -eq "${dept}")`,
        membershipRuleProcessingState: 'On',
      });
    }
    const size = Math.min(pool.length, Math.max(1, Math.round((budget * weights[g]!) / wsum)));
    const seen = new Set<number>();
    // Sampling with rejection is fine while size is well below the pool; for huge groups take a run.
    if (size > pool.length / 2) {
      const start = rng.int(pool.length);
      for (let k = 0; k < size; k++) seen.add(pool[(start + k) % pool.length]!);
    } else {
      while (seen.size < size) seen.add(pool[rng.int(pool.length)]!);
    }
    for (const ui of seen) group.members.push(users[ui]!.id);
    if (kind === 'dl' && rng.chance(0.5)) group.members.push(contacts[rng.int(contacts.length)]!.id);
    if (kind === 'security' && rng.chance(0.3)) group.members.push(devices[rng.int(devices.length)]!.id);
    if ((kind === 'security' || kind === 'mesg') && quirk.chance(0.3))
      group.members.push(servicePrincipals[quirk.int(servicePrincipals.length)]!.id);
    groups.push(group);
  }
  // Nesting: a group may contain earlier non-M365 groups, so there are no cycles.
  for (let g = 1; g < groups.length; g++) {
    const parent = groups[g]!;
    if ((parent.groupTypes as string[]).includes('Unified') || !rng.chance(0.15)) continue;
    const n = 1 + rng.int(2);
    for (let k = 0; k < n; k++) {
      const child = groups[rng.int(g)]!;
      if (!parent.members.includes(child.id)) parent.members.push(child.id);
    }
  }

  const apps: EmulatorApp[] = [
    {
      clientId: rng.guid(),
      clientSecret: secretFrom(rng),
      roles: [...SYNC_APP_ROLES],
      secretExpired: false,
      displayName: 'entrasync-sync',
    },
    {
      clientId: rng.guid(),
      clientSecret: secretFrom(rng),
      roles: [],
      secretExpired: false,
      displayName: 'entrasync-no-consent',
    },
    {
      clientId: rng.guid(),
      clientSecret: secretFrom(rng),
      roles: [...SYNC_APP_ROLES],
      secretExpired: true,
      displayName: 'entrasync-expired',
    },
    // Drawn after everything else, so adding them changed no other generated object.
    {
      clientId: rng.guid(),
      clientSecret: secretFrom(rng),
      roles: [...MAILBOX_APP_ROLES],
      secretExpired: false,
      displayName: 'entrasync-mailbox',
    },
    {
      clientId: rng.guid(),
      clientSecret: secretFrom(rng),
      roles: [...DIRECTORY_APP_ROLES],
      secretExpired: false,
      displayName: 'entrasync-directory-only',
    },
  ];
  const title = company.charAt(0).toUpperCase() + company.slice(1);
  return { tenantId, displayName: title, domains, apps, users, groups, contacts, devices, servicePrincipals };
}

/** `ada.vance` → `Ada.Vance`: the same local part in other letter case. */
function capitalized(local: string): string {
  return local.replace(/(^|[.])([a-z])/g, (_m, sep: string, c: string) => sep + c.toUpperCase());
}

function secretFrom(rng: Rng): string {
  const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.';
  let s = '';
  for (let i = 0; i < 37; i++) s += chars[rng.int(chars.length)];
  return `${s.slice(0, 3)}8Q~${s.slice(3)}`;
}
