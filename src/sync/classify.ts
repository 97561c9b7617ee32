import type { GroupKind } from '../directory/model.js';
import type { SourceGroup, SourceUser } from './source.js';

/** Reading Entra records: which addresses an object has, what kind a group is, who is a guest. */

/** The raw (not yet validated) SMTP addresses of an Entra object. */
export interface RawAddresses {
  /** The primary address as Entra gives it, or null when the object has none. */
  primary: string | null;
  /** The other SMTP addresses, as given (duplicates and the primary still possible). */
  aliases: string[];
}

/**
 * Reads proxyAddresses (`TYPE:address`): `SMTP:` (upper case) is the primary, `smtp:` an alias;
 * other types (X500, SIP, SPO, EUM, X400…) are not mail addresses. Without an `SMTP:` entry the
 * primary is `mail`. `mail` is never added as an alias: Exchange routes only proxyAddresses.
 */
export function readAddresses(proxyAddresses: readonly string[], mail: string | null): RawAddresses {
  const primaries: string[] = [];
  const aliases: string[] = [];
  for (const entry of proxyAddresses) {
    const colon = entry.indexOf(':');
    if (colon < 0) continue;
    const type = entry.slice(0, colon).trim();
    const address = entry.slice(colon + 1).trim();
    if (address.length === 0) continue;
    if (type === 'SMTP') primaries.push(address);
    else if (type.toLowerCase() === 'smtp') aliases.push(address);
  }
  const fallback = mail?.trim() ? mail.trim() : null;
  if (primaries.length === 0) return { primary: fallback, aliases };
  // Entra allows one SMTP: entry; should a record carry several, pick one that does not depend on
  // the order Graph listed them in (the one equal to `mail`, else the smallest) and keep the rest.
  const lower = (s: string) => s.toLowerCase();
  const sorted = [...primaries].sort((a, b) => (lower(a) < lower(b) ? -1 : lower(a) > lower(b) ? 1 : 0));
  const chosen = sorted.find((p) => fallback !== null && lower(p) === lower(fallback)) ?? sorted[0]!;
  return { primary: chosen, aliases: [...aliases, ...sorted.filter((p) => p !== chosen)] };
}

/**
 * Classifies an Entra group: Microsoft 365 (`Unified`) and mail-enabled non-security groups are
 * distribution groups; security groups (mail-enabled or not) are security groups. Returns null
 * for a group that is neither (not mail-enabled, not security-enabled): nothing to sync.
 */
export function classifyGroup(group: SourceGroup): GroupKind | null {
  if (group.groupTypes.some((t) => t.toLowerCase() === 'unified')) return 'distribution';
  if (group.securityEnabled) return 'security';
  if (group.mailEnabled) return 'distribution';
  return null;
}

/** True for B2B guests. A missing userType (old accounts) counts as a member. */
export function isGuest(user: SourceUser): boolean {
  return user.userType?.toLowerCase() === 'guest';
}
