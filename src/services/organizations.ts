import { randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import { parseDomain } from '../directory/addresses.js';
import {
  type DnsFinding,
  type EntraFinding,
  judgeDomainProof,
  txtRecordValue,
} from '../directory/domains.js';
import { AppError, conflict, invalid, notFound } from '../directory/errors.js';
import type { DomainEntry, Organization } from '../directory/model.js';
import { recordAudit } from '../store/audit.js';
import type { Store } from '../store/database.js';
import { DirectoryRepository } from '../store/directory-repository.js';
import type { Database } from '../store/schema.js';
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
  constructor(
    private readonly store: Store,
    private readonly runtime: Runtime,
  ) {}

  async create(input: { name: string; domains: string[] }, actor: string): Promise<Organization> {
    const name = parseName(input.name);
    if (input.domains.length === 0) throw invalid('domain', 'An organization needs at least one domain.');
    const domains = [...new Set(input.domains.map((d) => parseDomain(d)))];
    const id = this.runtime.newId();
    const now = this.runtime.now().toISOString();
    await this.#assertDomainsFree(domains);
    await this.#unique(async () => {
      await this.store.db.transaction().execute(async (trx) => {
        await trx.insertInto('organizations').values({ id, name, created_at: now }).execute();
        await trx
          .insertInto('domains')
          .values(
            domains.map((domain) => ({
              org_id: id,
              domain,
              created_at: now,
              proven_by: 'operator',
              proven_at: now,
            })),
          )
          .execute();
        await recordAudit(
          trx,
          {
            orgId: id,
            actor,
            action: 'org.create',
            targetType: 'organization',
            targetId: id,
            detail: { name, domains },
          },
          this.runtime.now(),
        );
      });
    }, domains);
    return { id, name, domains, pendingDomains: [], licensedSeats: null, createdAt: now };
  }

  async list(): Promise<Organization[]> {
    const [orgs, domains, claims] = await Promise.all([
      this.store.db.selectFrom('organizations').selectAll().orderBy('name').orderBy('id').execute(),
      this.store.db.selectFrom('domains').select(['org_id', 'domain']).orderBy('domain').execute(),
      this.store.db.selectFrom('domain_claims').select(['org_id', 'domain']).orderBy('domain').execute(),
    ]);
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
    const org = await this.store.db
      .selectFrom('organizations')
      .selectAll()
      .where('id', '=', orgId)
      .executeTakeFirst();
    if (!org) throw notFound(`No organization with id ${orgId}.`);
    const [domains, claims] = await Promise.all([
      this.store.db
        .selectFrom('domains')
        .select('domain')
        .where('org_id', '=', orgId)
        .orderBy('domain')
        .execute(),
      this.store.db
        .selectFrom('domain_claims')
        .select('domain')
        .where('org_id', '=', orgId)
        .orderBy('domain')
        .execute(),
    ]);
    return {
      id: org.id,
      name: org.name,
      licensedSeats: org.licensed_seats,
      createdAt: org.created_at,
      domains: domains.map((d) => d.domain),
      pendingDomains: claims.map((d) => d.domain),
    };
  }

  /** Finds an organization by its id or by any of its domains. */
  async resolve(ref: string): Promise<Organization> {
    const trimmed = ref.trim();
    if (UUID.test(trimmed)) {
      const byId = await this.store.db
        .selectFrom('organizations')
        .select('id')
        .where('id', '=', trimmed.toLowerCase())
        .executeTakeFirst();
      if (byId) return this.get(byId.id);
    }
    const hit = await this.store.db
      .selectFrom('domains')
      .select('org_id')
      .where('domain', '=', trimmed.toLowerCase())
      .executeTakeFirst();
    if (!hit) {
      throw notFound(
        `No organization has the id or domain "${ref}": run \`entrasync org list\` to see them.`,
      );
    }
    return this.get(hit.org_id);
  }

  async rename(orgId: string, newName: string, actor: string): Promise<Organization> {
    const name = parseName(newName);
    await this.get(orgId);
    await this.store.db.transaction().execute(async (trx) => {
      await trx.updateTable('organizations').set({ name }).where('id', '=', orgId).execute();
      await recordAudit(
        trx,
        { orgId, actor, action: 'org.rename', targetType: 'organization', targetId: orgId, detail: { name } },
        this.runtime.now(),
      );
    });
    return this.get(orgId);
  }

  /** Sets the seats the customer's licence covers (null: not tracked); previews warn beyond it. */
  async setLicensedSeats(orgId: string, seats: unknown, actor: string): Promise<Organization> {
    const licensed = parseSeats(seats);
    await this.get(orgId);
    await this.store.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('organizations')
        .set({ licensed_seats: licensed })
        .where('id', '=', orgId)
        .execute();
      await recordAudit(
        trx,
        {
          orgId,
          actor,
          action: 'org.seats',
          targetType: 'organization',
          targetId: orgId,
          detail: { licensedSeats: licensed },
        },
        this.runtime.now(),
      );
    });
    return this.get(orgId);
  }

  async delete(orgId: string, actor: string): Promise<void> {
    await this.get(orgId);
    await this.store.db.transaction().execute(async (trx) => {
      // Children first: SQLite enforces the cascades too, but deleting explicitly keeps both dialects equal.
      for (const table of [
        'sync_leases',
        'sync_runs',
        'sync_plans',
        'sync_state',
        'entra_settings',
        'group_members',
        'addresses',
        'users',
        'groups',
        'domains',
        'domain_claims',
        'api_tokens',
      ] as const) {
        await trx.deleteFrom(table).where('org_id', '=', orgId).execute();
      }
      await trx.deleteFrom('sessions').where('org_id', '=', orgId).execute();
      await trx.deleteFrom('organizations').where('id', '=', orgId).execute();
      await recordAudit(
        trx,
        { orgId: null, actor, action: 'org.delete', targetType: 'organization', targetId: orgId },
        this.runtime.now(),
      );
    });
  }

  /** Every domain of the organization, proven and pending, with what a pending one needs. */
  async listDomains(orgId: string): Promise<DomainEntry[]> {
    await this.get(orgId);
    const [proven, claims] = await Promise.all([
      this.store.db.selectFrom('domains').selectAll().where('org_id', '=', orgId).execute(),
      this.store.db.selectFrom('domain_claims').selectAll().where('org_id', '=', orgId).execute(),
    ]);
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
        await this.store.db.transaction().execute(async (trx) => {
          if (how.direct) {
            await this.#prove(trx, orgId, domain, 'operator', now);
          } else {
            await trx
              .insertInto('domain_claims')
              .values({ org_id: orgId, domain, token: randomBytes(16).toString('hex'), created_at: now })
              // The same claim made twice at once: the first one's token stands.
              .onConflict((oc) => oc.columns(['org_id', 'domain']).doNothing())
              .execute();
          }
          await recordAudit(
            trx,
            {
              orgId,
              actor,
              action: how.direct ? 'domain.add' : 'domain.claim',
              targetType: 'domain',
              targetId: domain,
            },
            this.runtime.now(),
          );
        });
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
    const claim = await this.store.db
      .selectFrom('domain_claims')
      .select('token')
      .where('org_id', '=', orgId)
      .where('domain', '=', domain)
      .executeTakeFirst();
    if (!claim) {
      throw notFound(`${domain} is not a domain of ${org.name}: add it first, then verify it.`);
    }
    const [dns, entra] = await Promise.all([sources.txt(domain), sources.entra()]);
    const verdict = judgeDomainProof(domain, claim.token, dns, entra);
    const now = this.runtime.now().toISOString();
    if ('unproven' in verdict) {
      await this.store.db
        .updateTable('domain_claims')
        .set({ checked_at: now, check_outcome: verdict.unproven })
        .where('org_id', '=', orgId)
        .where('domain', '=', domain)
        .execute();
      throw new AppError('not_proven', verdict.unproven, 'domain');
    }
    await this.#unique(
      async () => {
        await this.store.db.transaction().execute(async (trx) => {
          await this.#prove(trx, orgId, domain, verdict.provenBy, now);
          await recordAudit(
            trx,
            {
              orgId,
              actor,
              action: 'domain.verify',
              targetType: 'domain',
              targetId: domain,
              detail: { provenBy: verdict.provenBy },
            },
            this.runtime.now(),
          );
        });
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
    await this.store.db.transaction().execute(async (trx) => {
      await trx
        .deleteFrom(pending ? 'domain_claims' : 'domains')
        .where('org_id', '=', orgId)
        .where('domain', '=', domain)
        .execute();
      await recordAudit(
        trx,
        {
          orgId,
          actor,
          action: 'domain.remove',
          targetType: 'domain',
          targetId: domain,
          detail: { pending },
        },
        this.runtime.now(),
      );
    });
    return this.get(orgId);
  }

  /**
   * Makes `domain` count for `orgId`, fulfilling its claim. Other organizations' claims stay, so
   * nothing vanishes from their lists: their Verify now answers "not available".
   */
  async #prove(
    trx: Transaction<Database>,
    orgId: string,
    domain: string,
    provenBy: string,
    now: string,
  ): Promise<void> {
    await trx
      .insertInto('domains')
      .values({ org_id: orgId, domain, created_at: now, proven_by: provenBy, proven_at: now })
      .execute();
    await trx.deleteFrom('domain_claims').where('org_id', '=', orgId).where('domain', '=', domain).execute();
  }

  /** Refuses a domain another organization owns; an operator is told whose it is, nobody else. */
  async #assertAvailable(orgId: string, domain: string, operator: boolean): Promise<void> {
    const owner = await this.store.db
      .selectFrom('domains')
      .innerJoin('organizations', 'organizations.id', 'domains.org_id')
      .select(['organizations.id', 'organizations.name'])
      .where('domains.domain', '=', domain)
      .executeTakeFirst();
    if (!owner || owner.id === orgId) return;
    throw operator ? belongsElsewhere(domain, owner.name) : notAvailable(domain);
  }

  async #assertDomainsFree(domains: string[]): Promise<void> {
    const taken = await this.store.db
      .selectFrom('domains')
      .select('domain')
      .where('domain', 'in', domains)
      .executeTakeFirst();
    if (taken) {
      throw belongsElsewhere(taken.domain);
    }
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
