import { invalid } from './errors.js';

/** Rules for domains and email addresses: the one place that decides what is valid. */

// A DNS name: labels of letters, digits and inner hyphens, 1–63 characters, at least two labels,
// a top-level label that is not all digits, 253 characters at most.
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Lower-cases and trims a domain; returns null when it is not a valid DNS name. */
export function normalizeDomain(input: string): string | null {
  const domain = input.trim().toLowerCase().replace(/\.$/, '');
  if (domain.length === 0 || domain.length > 253) return null;
  const labels = domain.split('.');
  if (labels.length < 2) return null;
  if (!labels.every((l) => LABEL.test(l))) return null;
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return null;
  return domain;
}

/** Like normalizeDomain, but throws a field-level error naming what is wrong. */
export function parseDomain(input: string, field = 'domain'): string {
  const domain = normalizeDomain(input);
  if (!domain) {
    throw invalid(field, `"${input}" is not a valid domain name: use a DNS name such as example.com.`);
  }
  return domain;
}

// Local part: the dot-atom of RFC 5321 (no quoted strings: mail systems reject them in practice).
const LOCAL = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

/** Lower-cases and trims an address; returns null when it is not a valid address. */
export function normalizeAddress(input: string): string | null {
  const address = input.trim().toLowerCase();
  const at = address.lastIndexOf('@');
  if (at <= 0 || at > 64) return null;
  const local = address.slice(0, at);
  if (!LOCAL.test(local)) return null;
  const domain = normalizeDomain(address.slice(at + 1));
  if (!domain || address.length > 254) return null;
  return `${local}@${domain}`;
}

/** Why a pending domain's addresses are refused, and what lifts it: said alike by the API and sync. */
export const PENDING_ACCEPTS_NO_ADDRESS =
  'a domain accepts addresses once it is proven (a DNS TXT record, or a verified domain of the Entra tenant): see Domains → Verify.';

/** The domain part of a normalized address. */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

/**
 * The initial domains Microsoft creates with every tenant (its `isInitial` domain, docs/emulator.md
 * "Domains"), by cloud: `tenant.onmicrosoft.com` (global), `tenant.onmicrosoft.us` (US Government),
 * `tenant.partner.onmschina.cn` (21Vianet) — each with Exchange's `tenant.mail.…` routing domain
 * beneath it (docs/sync-rules.md cites Microsoft's pages).
 */
export const MICROSOFT_INITIAL_DOMAIN_SUFFIXES = [
  '.onmicrosoft.com',
  '.onmicrosoft.us',
  '.partner.onmschina.cn',
] as const;

/**
 * Whether a (normalized) domain is one of Microsoft's initial or routing domains, in any cloud.
 * Exchange Online gives every mail-enabled object an address there, so an alias in such a domain
 * is expected, not a data problem: sync leaves it out and counts it (docs/sync-rules.md) unless
 * the organization added that domain.
 */
export function isMicrosoftInitialDomain(domain: string): boolean {
  return MICROSOFT_INITIAL_DOMAIN_SUFFIXES.some((suffix) => domain.endsWith(suffix));
}

/** An organization's domains: the proven ones accept addresses, the pending ones not yet. */
export interface OrgDomains {
  domains: readonly string[];
  pendingDomains: readonly string[];
}

/**
 * Parses an address that must lie in one of the organization's proven domains. Throws a
 * field-level error that says which domains are allowed, or that the domain awaits its proof.
 */
export function parseAddress(input: string, org: OrgDomains, field = 'email'): string {
  const address = normalizeAddress(input);
  if (!address) {
    throw invalid(field, `"${input}" is not a valid email address.`);
  }
  const { domains } = org;
  const domain = domainOf(address);
  if (org.pendingDomains.includes(domain)) {
    throw invalid(field, `${address} is in ${domain}, which is pending: ${PENDING_ACCEPTS_NO_ADDRESS}`);
  }
  if (!domains.includes(domain)) {
    const allowed = domains.length ? domains.join(', ') : '(none yet: add a domain first)';
    throw invalid(
      field,
      `${address} is not in one of the organization's domains (${allowed}): add the domain to the organization or use another address.`,
    );
  }
  return address;
}

/** Parses a list of aliases: each valid and in the domains, no duplicates, none equal to the primary. */
export function parseAliases(
  inputs: readonly string[],
  primary: string | null,
  org: OrgDomains,
  field = 'aliases',
): string[] {
  const seen = new Set<string>();
  for (const input of inputs) {
    const alias = parseAddress(input, org, field);
    if (alias === primary) {
      throw invalid(field, `${alias} is the primary address: an alias must be another address.`);
    }
    seen.add(alias);
  }
  return [...seen].sort();
}
