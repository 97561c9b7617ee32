import { GraphError, parseSelectList } from './odata.js';
import { CSDL_PROPERTIES } from './schema.js';

/**
 * The tenant's domains as Graph serves them under `/domains` (learn.microsoft.com/graph/api/domain-list
 * and domain-get): every property follows from the name, whether the domain is verified, and whether
 * it is the tenant's default. Values are those of a real tenant's answer (docs/emulator.md).
 */

/** Application permissions that list and read domains (domain-list: least privileged Domain.Read.All). */
export const DOMAIN_READ = [
  'Domain.Read.All',
  'Domain.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
];

/** The properties served without $select, in the order a real tenant's answer lists them. */
const DEFAULT_DOMAIN_SELECT = [
  'authenticationType',
  'availabilityStatus',
  'id',
  'isAdminManaged',
  'isDefault',
  'isInitial',
  'isRoot',
  'isVerified',
  'supportedServices',
  'passwordValidityPeriodInDays',
  'passwordNotificationWindowInDays',
  'state',
];

/** Passwords never expire (the setting of new tenants): what a real tenant answers for its verified domains. */
const PASSWORDS_NEVER_EXPIRE = 2147483647;
const PASSWORD_NOTIFICATION_DAYS = 14;

/** A DNS name: labels of letters, digits and inner hyphens, ending in an alphabetic top-level label. */
const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** True when `name` is a DNS name, as a domain of a tenant (and a tenant named by domain) must be. */
export function isDomainName(name: string): boolean {
  return DNS_NAME.test(name);
}

/** Why `name` cannot be a domain of a tenant, or undefined. */
export function domainNameProblem(name: string): string | undefined {
  if (name === '') return 'a domain name is required';
  return isDomainName(name) ? undefined : `'${name}' is not a domain name`;
}

/** The initial domain is the `*.onmicrosoft.com` one Microsoft creates with the tenant. */
export function isInitialDomain(name: string): boolean {
  return name.toLowerCase().endsWith('.onmicrosoft.com');
}

/**
 * The services a domain supports: Exchange mail on a verified domain, and Teams too on the initial
 * one; an unverified domain supports none. `/organization` shows the same as `capabilities`.
 */
export function supportedServices(name: string, verified: boolean): string[] {
  if (!verified) return [];
  return isInitialDomain(name) ? ['Email', 'OfficeCommunicationsOnline'] : ['Email'];
}

/** The domain entity of one of the tenant's domains, with every structural property of the CSDL type. */
function domainEntity(name: string, verified: boolean, isDefault: boolean): Record<string, unknown> {
  return {
    authenticationType: 'Managed',
    availabilityStatus: null,
    id: name,
    isAdminManaged: true,
    isDefault,
    isInitial: isInitialDomain(name),
    // A domain added but not verified is not a root domain yet, as a real tenant's answer shows.
    isRoot: verified,
    isVerified: verified,
    supportedServices: supportedServices(name, verified),
    passwordValidityPeriodInDays: verified ? PASSWORDS_NEVER_EXPIRE : null,
    passwordNotificationWindowInDays: verified ? PASSWORD_NOTIFICATION_DAYS : null,
    state: null,
    manufacturer: null,
    model: null,
  };
}

/** `domain` as JSON with the selected properties (null: the default set), in that order. */
export function domainJson(
  domain: { name: string; verified: boolean },
  isDefault: boolean,
  select: string[] | null,
): string {
  const entity = domainEntity(domain.name, domain.verified, isDefault);
  const parts = (select ?? DEFAULT_DOMAIN_SELECT).map(
    (p) => `${JSON.stringify(p)}:${JSON.stringify(entity[p])}`,
  );
  return `{${parts.join(',')}}`;
}

/**
 * The query of a `/domains` request: its $select (names matched in any case, served in the
 * schema's spelling). Other query options are refused rather than ignored, so that no test relies
 * on an answer the emulator did not filter, sort or page as Graph would.
 */
export function parseDomainQuery(query: URLSearchParams): string[] | null {
  for (const key of query.keys()) {
    if (key.startsWith('$') && key !== '$select') {
      throw new GraphError(
        400,
        'Request_UnsupportedQuery',
        `The emulator serves /domains with $select only; '${key}' is not emulated.`,
      );
    }
  }
  const properties = Object.keys(CSDL_PROPERTIES.domain ?? {});
  return parseSelectList(query.get('$select'), 'domain', (name) => {
    const lower = name.toLowerCase();
    return lower === 'id' ? 'id' : properties.find((p) => p.toLowerCase() === lower);
  });
}
