/**
 * The rules of domain proof: what record proves a domain, and what two findings — the domain's
 * TXT records and the connected Entra tenant's domains — decide. Pure: the lookups are made
 * in src/services/domain-proof.ts.
 */

import type { DomainProof } from './model.js';

/** The TXT value that proves `token`'s domain; published at the domain itself, like Microsoft's MS=ms… record. */
export function txtRecordValue(token: string): string {
  return `entrasync-verification=${token}`;
}

/** What the domain's name servers answered. */
export type DnsFinding =
  /** Each record's strings joined, as RFC 7208 §3.3 reads a TXT record made of several. */
  { records: string[] } | { failure: 'no_record' | 'unreachable'; detail: string };

/** What the organization's Entra tenant says of its domains. */
export type EntraFinding =
  | { tenant: string; domains: readonly { name: string; isVerified: boolean }[] }
  /** Not asked, and why: no connection saved, or endpoints that are not Microsoft's. */
  | { notAsked: string }
  /** Asked, and it failed: Microsoft's answer and what to do. */
  | { failure: string; hint?: string };

export type ProofVerdict = { provenBy: Extract<DomainProof, 'dns' | 'entra'> } | { unproven: string };

/**
 * Decides whether `domain` is proven, by either finding. Unproven: one sentence per source that
 * says what it found and what to do, so the admin knows which to fix.
 */
export function judgeDomainProof(
  domain: string,
  token: string,
  dns: DnsFinding,
  entra: EntraFinding,
): ProofVerdict {
  const wanted = txtRecordValue(token);
  if ('domains' in entra && entra.domains.some((d) => d.name === domain && d.isVerified)) {
    return { provenBy: 'entra' };
  }
  if ('records' in dns && dns.records.some((r) => r.trim() === wanted)) return { provenBy: 'dns' };
  return {
    unproven: `${domain} is not proven yet. ${dnsSentence(domain, wanted, dns)} ${entraSentence(domain, entra)}`,
  };
}

function dnsSentence(domain: string, wanted: string, dns: DnsFinding): string {
  const publish = `publish a TXT record at ${domain} with the value ${wanted} and try again (new records can take up to an hour to be seen)`;
  if ('failure' in dns) {
    return dns.failure === 'no_record'
      ? `DNS: ${domain} has no TXT record: ${publish}.`
      : `DNS: the TXT records of ${domain} could not be read (${dns.detail}): try again later.`;
  }
  const ours = dns.records.filter((r) => r.trim().startsWith('entrasync-verification='));
  if (ours.length > 0) {
    return `DNS: ${domain} has ${ours.map((r) => r.trim()).join(', ')}, which is not this organization's value: replace it with ${wanted}.`;
  }
  return `DNS: none of the ${dns.records.length} TXT record(s) of ${domain} is ${wanted}: ${publish}.`;
}

function entraSentence(domain: string, entra: EntraFinding): string {
  if ('notAsked' in entra) return `Entra: not asked, because ${entra.notAsked}.`;
  if ('failure' in entra)
    return `Entra: the tenant could not be asked: ${entra.failure}${entra.hint ? ` ${entra.hint}` : ''}`;
  const listed = entra.domains.find((d) => d.name === domain);
  return listed
    ? `Entra: the tenant ${entra.tenant} has ${domain} but has not verified it: verify it in the Microsoft Entra admin center (Settings → Domain names), then try again.`
    : `Entra: the tenant ${entra.tenant} does not have ${domain} among its domains.`;
}
