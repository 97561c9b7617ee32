import { parseDomain } from '../directory/addresses.js';
import { conflict, invalid, notFound } from '../directory/errors.js';
import type { Organization } from '../directory/model.js';
import { recordAudit } from '../store/audit.js';
import type { Store } from '../store/database.js';
import { DirectoryRepository } from '../store/directory-repository.js';
import type { Runtime } from './clock.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
          .values(domains.map((domain) => ({ org_id: id, domain, created_at: now })))
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
    return { id, name, domains, licensedSeats: null, createdAt: now };
  }

  async list(): Promise<Organization[]> {
    const [orgs, domains] = await Promise.all([
      this.store.db.selectFrom('organizations').selectAll().orderBy('name').orderBy('id').execute(),
      this.store.db.selectFrom('domains').select(['org_id', 'domain']).orderBy('domain').execute(),
    ]);
    return orgs.map((o) => ({
      id: o.id,
      name: o.name,
      licensedSeats: o.licensed_seats,
      createdAt: o.created_at,
      domains: domains.filter((d) => d.org_id === o.id).map((d) => d.domain),
    }));
  }

  async get(orgId: string): Promise<Organization> {
    const org = await this.store.db
      .selectFrom('organizations')
      .selectAll()
      .where('id', '=', orgId)
      .executeTakeFirst();
    if (!org) throw notFound(`No organization with id ${orgId}.`);
    const domains = await this.store.db
      .selectFrom('domains')
      .select('domain')
      .where('org_id', '=', orgId)
      .orderBy('domain')
      .execute();
    return {
      id: org.id,
      name: org.name,
      licensedSeats: org.licensed_seats,
      createdAt: org.created_at,
      domains: domains.map((d) => d.domain),
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

  async addDomain(orgId: string, input: string, actor: string): Promise<Organization> {
    const domain = parseDomain(input);
    const org = await this.get(orgId);
    if (org.domains.includes(domain)) return org;
    await this.#assertDomainsFree([domain]);
    await this.#unique(async () => {
      await this.store.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('domains')
          .values({ org_id: orgId, domain, created_at: this.runtime.now().toISOString() })
          .execute();
        await recordAudit(
          trx,
          { orgId, actor, action: 'domain.add', targetType: 'domain', targetId: domain },
          this.runtime.now(),
        );
      });
    }, [domain]);
    return this.get(orgId);
  }

  async removeDomain(orgId: string, input: string, actor: string): Promise<Organization> {
    const domain = parseDomain(input);
    const org = await this.get(orgId);
    if (!org.domains.includes(domain)) {
      throw notFound(`${domain} is not a domain of ${org.name} (its domains: ${org.domains.join(', ')}).`);
    }
    const inUse = await new DirectoryRepository(this.store.db, orgId).countAddressesInDomain(domain);
    if (inUse > 0) {
      throw conflict(
        'domain',
        `${domain} is still used by ${inUse} address(es): remove or change them before removing the domain.`,
      );
    }
    await this.store.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('domains').where('org_id', '=', orgId).where('domain', '=', domain).execute();
      await recordAudit(
        trx,
        { orgId, actor, action: 'domain.remove', targetType: 'domain', targetId: domain },
        this.runtime.now(),
      );
    });
    return this.get(orgId);
  }

  async #assertDomainsFree(domains: string[]): Promise<void> {
    const taken = await this.store.db
      .selectFrom('domains')
      .select('domain')
      .where('domain', 'in', domains)
      .executeTakeFirst();
    if (taken) {
      throw conflict(
        'domain',
        `${taken.domain} already belongs to an organization: a domain can belong to one organization only.`,
      );
    }
  }

  /** Turns a unique-index race (two requests at once) into the same error the pre-check gives. */
  async #unique(work: () => Promise<void>, domains: string[]): Promise<void> {
    try {
      await work();
    } catch (error) {
      if (this.store.dialect.isUniqueViolation(error)) {
        throw conflict(
          'domain',
          `${domains.join(', ')} already belongs to an organization: a domain can belong to one organization only.`,
        );
      }
      throw error;
    }
  }
}

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
