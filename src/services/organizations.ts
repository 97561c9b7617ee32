import { randomBytes } from 'node:crypto';
import type { Equal } from '../contract/common.js';
import type { AuditEntryView } from '../contract/organizations.js';
import { parseDomain } from '../directory/addresses.js';
import {
  type DnsFinding,
  type EntraFinding,
  judgeDomainProof,
  txtRecordValue,
} from '../directory/domains.js';
import { AppError, conflict, invalid, notFound } from '../directory/errors.js';
import type { DomainEntry, Organization } from '../directory/model.js';
import { type AuditEntry, listAudit } from '../store/audit.js';
import type { Store } from '../store/database.js';
import { DirectoryRepository } from '../store/directory-repository.js';
import { type Audited, OrganizationRepository } from '../store/organization-repository.js';
import type { Runtime } from './clock.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Domains an organization may hold, proven and pending together: far above any customer's need. */
const MAX_DOMAINS = 100;

/** Where a pending domain's proof is looked for: its TXT records and the connected Entra tenant. */
export interface DomainProofSources {
  txt(domain: string): Promise<DnsFinding>;
  entra(): Promise<EntraFinding>;
}

/** Organizations and their domains: service-wide (operators), not scoped to one organization. */
export class OrganizationService {
  readonly #repo: OrganizationRepository;

  constructor(
    private readonly store: Store,
    private readonly runtime: Runtime,
  ) {
    this.#repo = new OrganizationRepository(store.db);
  }

  /** An audit entry stamped now. */
  #audited(audit: AuditEntry): Audited {
    return { audit, at: this.runtime.now() };
  }

  async create(input: { name: string; domains: string[] }, actor: string): Promise<Organization> {
    const name = parseName(input.name);
    if (input.domains.length === 0) throw invalid('domain', 'An organization needs at least one domain.');
    const domains = [...new Set(input.domains.map((d) => parseDomain(d)))];
    const id = this.runtime.newId();
    const now = this.runtime.now().toISOString();
    await this.#assertDomainsFree(domains);
    await this.#unique(async () => {
      await this.#repo.create(
        { id, name, createdAt: now },
        domains,
        this.#audited({
          orgId: id,
          actor,
          action: 'org.create',
          targetType: 'organization',
          targetId: id,
          detail: { name, domains },
        }),
      );
    }, domains);
    return { id, name, domains, pendingDomains: [], licensedSeats: null, createdAt: now };
  }

  async list(): Promise<Organization[]> {
    const { orgs, domains, claims } = await this.#repo.all();
    const of = (rows: { org_id: string; domain: string }[], orgId: string) =>
      rows.filter((d) => d.org_id === orgId).map((d) => d.domain);
    return orgs.map((o) => ({
      id: o.id,
      name: o.name,
      licensedSeats: o.licensed_seats,
      createdAt: o.created_at,
      domains: of(domains, o.id),
      pendingDomains: of(claims, o.id),
    }));
  }

  async get(orgId: string): Promise<Organization> {
    const org = await this.#repo.byId(orgId);
    if (!org) throw notFound(`No organization with id ${orgId}.`);
    const { domains, claims } = await this.#repo.domainNames(orgId);
    return {
      id: org.id,
      name: org.name,
      licensedSeats: org.licensed_seats,
      createdAt: org.created_at,
      domains,
      pendingDomains: claims,
    };
  }

  /** Finds an organization by its id or by any of its domains. */
  async resolve(ref: string): Promise<Organization> {
    const trimmed = ref.trim();
    if (UUID.test(trimmed)) {
      const id = trimmed.toLowerCase();
      if (await this.#repo.exists(id)) return this.get(id);
    }
    const hit = await this.#repo.ownerOf(trimmed.toLowerCase());
    if (!hit) {
      throw notFound(
        `No organization has the id or domain "${ref}": run \`entrasync org list\` to see them.`,
      );
    }
    return this.get(hit.id);
  }

  async rename(orgId: string, newName: string, actor: string): Promise<Organization> {
    const name = parseName(newName);
    await this.get(orgId);
    await this.#repo.update(
      orgId,
      { name },
      this.#audited({
        orgId,
        actor,
        action: 'org.rename',
        targetType: 'organization',
        targetId: orgId,
        detail: { name },
      }),
    );
    return this.get(orgId);
  }

  /** Sets the seats the customer's licence covers (null: not tracked); previews warn beyond it. */
  async setLicensedSeats(orgId: string, seats: unknown, actor: string): Promise<Organization> {
    const licensed = parseSeats(seats);
    await this.get(orgId);
    await this.#repo.update(
      orgId,
      { licensed_seats: licensed },
      this.#audited({
        orgId,
        actor,
        action: 'org.seats',
        targetType: 'organization',
        targetId: orgId,
        detail: { licensedSeats: licensed },
      }),
    );
    return this.get(orgId);
  }

  async delete(orgId: string, actor: string): Promise<void> {
    await this.get(orgId);
    await this.#repo.delete(
      orgId,
      this.#audited({
        orgId: null,
        actor,
        action: 'org.delete',
        targetType: 'organization',
        targetId: orgId,
      }),
    );
  }

  /** The organization's newest audit entries, each with its target's label where one is known. */
  audit(orgId: string, limit: number): Promise<AuditEntryView[]> {
    return listAudit(this.store.db, orgId, limit);
  }

  /** Every domain of the organization, proven and pending, with what a pending one needs. */
  async listDomains(orgId: string): Promise<DomainEntry[]> {
    await this.get(orgId);
    const { proven, claims } = await this.#repo.domainRows(orgId);
    const entries: DomainEntry[] = [
      ...proven.map((d) => ({
        domain: d.domain,
        status: 'verified' as const,
        provenBy: d.proven_by as DomainEntry['provenBy'],
        provenAt: d.proven_at,
        createdAt: d.created_at,
        txtRecord: null,
        lastCheck: null,
      })),
      ...claims.map((c) => ({
        domain: c.domain,
        status: 'pending' as const,
        provenBy: null,
        provenAt: null,
        createdAt: c.created_at,
        txtRecord: { name: c.domain, type: 'TXT' as const, value: txtRecordValue(c.token) },
        lastCheck: c.checked_at ? { at: c.checked_at, outcome: c.check_outcome ?? '' } : null,
      })),
    ];
    return entries.sort((a, b) => a.domain.localeCompare(b.domain));
  }

  /**
   * Adds a domain. `direct` (an operator's word) makes it count at once; otherwise it is pending
   * until `verifyDomain` finds its proof. A domain another organization owns is "not available",
   * and only an operator learns whose it is.
   */
  async addDomain(
    orgId: string,
    input: string,
    actor: string,
    how: { direct: boolean },
  ): Promise<Organization> {
    const domain = parseDomain(input);
    const org = await this.get(orgId);
    if (org.domains.includes(domain)) return org;
    if (!how.direct && org.pendingDomains.includes(domain)) return org;
    await this.#assertAvailable(orgId, domain, how.direct);
    if (org.domains.length + org.pendingDomains.length >= MAX_DOMAINS) {
      throw invalid(
        'domain',
        `${org.name} has ${MAX_DOMAINS} domains already: remove one before adding another.`,
      );
    }
    const now = this.runtime.now().toISOString();
    await this.#unique(
      async () => {
        const audited = this.#audited({
          orgId,
          actor,
          action: how.direct ? 'domain.add' : 'domain.claim',
          targetType: 'domain',
          targetId: domain,
        });
        if (how.direct) await this.#repo.prove(orgId, domain, 'operator', now, audited);
        else await this.#repo.claim(orgId, domain, randomBytes(16).toString('hex'), now, audited);
      },
      [domain],
      how.direct,
    );
    return this.get(orgId);
  }

  /**
   * Looks for a pending domain's proof (its TXT record, the Entra tenant's verified domains) and
   * makes the domain count when one is found. Not found: a `not_proven` error saying what each
   * source answered, kept as the domain's last check.
   */
  async verifyDomain(
    orgId: string,
    input: string,
    actor: string,
    sources: DomainProofSources,
  ): Promise<DomainEntry> {
    const domain = parseDomain(input);
    const org = await this.get(orgId);
    const entry = () => this.listDomains(orgId).then((all) => all.find((d) => d.domain === domain)!);
    if (org.domains.includes(domain)) return entry();
    await this.#assertAvailable(orgId, domain, false);
    const token = await this.#repo.claimToken(orgId, domain);
    if (token === undefined) {
      throw notFound(`${domain} is not a domain of ${org.name}: add it first, then verify it.`);
    }
    const [dns, entra] = await Promise.all([sources.txt(domain), sources.entra()]);
    const verdict = judgeDomainProof(domain, token, dns, entra);
    const now = this.runtime.now().toISOString();
    if ('unproven' in verdict) {
      await this.#repo.recordCheck(orgId, domain, now, verdict.unproven);
      throw new AppError('not_proven', verdict.unproven, 'domain');
    }
    await this.#unique(
      async () => {
        await this.#repo.prove(
          orgId,
          domain,
          verdict.provenBy,
          now,
          this.#audited({
            orgId,
            actor,
            action: 'domain.verify',
            targetType: 'domain',
            targetId: domain,
            detail: { provenBy: verdict.provenBy },
          }),
        );
      },
      [domain],
      false,
    );
    return entry();
  }

  async removeDomain(orgId: string, input: string, actor: string): Promise<Organization> {
    const domain = parseDomain(input);
    const org = await this.get(orgId);
    const pending = org.pendingDomains.includes(domain);
    if (!pending && !org.domains.includes(domain)) {
      const all = [...org.domains, ...org.pendingDomains];
      throw notFound(`${domain} is not a domain of ${org.name} (its domains: ${all.join(', ') || 'none'}).`);
    }
    const inUse = pending
      ? 0
      : await new DirectoryRepository(this.store.db, orgId).countAddressesInDomain(domain);
    if (inUse > 0) {
      throw conflict(
        'domain',
        `${domain} is still used by ${inUse} address(es): remove or change them before removing the domain.`,
      );
    }
    await this.#repo.removeDomain(
      orgId,
      domain,
      pending,
      this.#audited({
        orgId,
        actor,
        action: 'domain.remove',
        targetType: 'domain',
        targetId: domain,
        detail: { pending },
      }),
    );
    return this.get(orgId);
  }

  /** Refuses a domain another organization owns; an operator is told whose it is, nobody else. */
  async #assertAvailable(orgId: string, domain: string, operator: boolean): Promise<void> {
    const owner = await this.#repo.ownerOf(domain);
    if (!owner || owner.id === orgId) return;
    throw operator ? belongsElsewhere(domain, owner.name) : notAvailable(domain);
  }

  async #assertDomainsFree(domains: string[]): Promise<void> {
    const taken = await this.#repo.firstTaken(domains);
    if (taken !== undefined) throw belongsElsewhere(taken);
  }

  /** Turns a unique-index race (two requests at once) into the same error the pre-check gives. */
  async #unique(work: () => Promise<void>, domains: string[], operator = true): Promise<void> {
    try {
      await work();
    } catch (error) {
      if (this.store.dialect.isUniqueViolation(error)) {
        if (!operator) throw notAvailable(domains.join(', '));
        throw belongsElsewhere(domains.join(', '));
      }
      throw error;
    }
  }
}

/** The one answer a non-operator gets for a domain someone else owns: it says nothing of whom. */
const notAvailable = (domain: string) => conflict('domain', `${domain} is not available.`);

/** What an operator is told of a domain another organization owns (named when known). */
const belongsElsewhere = (domain: string, owner = 'an organization') =>
  conflict('domain', `${domain} already belongs to ${owner}: a domain can belong to one organization only.`);

function parseName(input: string): string {
  const name = input.trim();
  if (!name) throw invalid('name', 'The organization name is empty: give it a name, e.g. "Contoso Ltd".');
  if (name.length > 200) throw invalid('name', 'The organization name is longer than 200 characters.');
  return name;
}

/** The most seats a licence may name: far above any tenant, well inside every integer column. */
const MAX_SEATS = 10_000_000;

function parseSeats(input: unknown): number | null {
  if (input === null) return null;
  if (typeof input === 'number' && Number.isInteger(input) && input >= 0 && input <= MAX_SEATS) return input;
  throw invalid(
    'licensedSeats',
    `${JSON.stringify(input)} is not a seat count: give a whole number from 0 to ${MAX_SEATS.toLocaleString('en')}, or null (not tracked).`,
  );
}

// The store reads the log (it may not import the contract): its entries are the served shape.
const _auditIsServed: Equal<Awaited<ReturnType<typeof listAudit>>[number], AuditEntryView> = true;
