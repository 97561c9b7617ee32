import { Resolver } from 'node:dns/promises';
import type { DnsFinding } from '../directory/domains.js';

/** A person waits for Verify: two tries of three seconds per name server is enough to tell. */
const DNS_TIMEOUT_MS = 3000;
const DNS_TRIES = 2;

/** Answers that mean "this name has no TXT record", as opposed to "the name servers did not answer". */
const NO_RECORD = new Set(['ENOTFOUND', 'ENODATA', 'NOTFOUND', 'NODATA']);

/**
 * Reads a domain's TXT records with node's resolver, from `servers` (the configured name
 * servers) or the system's. Each record's strings are joined, as RFC 7208 §3.3 reads them.
 */
export function dnsTxtReader(servers: readonly string[] | null): (domain: string) => Promise<DnsFinding> {
  return async (domain) => {
    const resolver = new Resolver({ timeout: DNS_TIMEOUT_MS, tries: DNS_TRIES });
    if (servers) resolver.setServers([...servers]);
    try {
      const records = await resolver.resolveTxt(domain);
      return { records: records.map((chunks) => chunks.join('')) };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
      if (NO_RECORD.has(code)) return { failure: 'no_record', detail: code };
      return { failure: 'unreachable', detail: dnsFailure(code) };
    } finally {
      resolver.cancel();
    }
  };
}

function dnsFailure(code: string): string {
  switch (code) {
    case 'ETIMEOUT':
      return 'the name servers did not answer in time';
    case 'ECONNREFUSED':
      return 'the name servers refused the connection';
    case 'ESERVFAIL':
      return "the domain's name servers failed to answer (SERVFAIL)";
    case 'EREFUSED':
      return 'the name servers refused the query';
    default:
      return `DNS error ${code}`;
  }
}
