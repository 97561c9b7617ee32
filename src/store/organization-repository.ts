import type { Kysely, Selectable, Transaction } from 'kysely';
import { type AuditEntry, recordAudit } from './audit.js';
import type { Database, DomainClaimsTable, DomainsTable, OrganizationsTable } from './schema.js';

/** An audit entry and its time, recorded in the transaction of the change it describes. */
export interface Audited {
  audit: AuditEntry;
  at: Date;
}

/** Tables holding an organization's rows, children first (deleted in this order). */
const ORG_OWNED_TABLES = [
  'sync_leases',
  'sync_runs',
  'sync_plans',
  'sync_state',
  'source_members',
  'source_users',
  'source_groups',
  'entra_settings',
  'group_members',
  'addresses',
  'users',
  'groups',
  'domains',
  'domain_claims',
  'api_tokens',
] as const;

/** Organizations and their domains (proven and claimed): service-wide, not scoped to one organization. */
export class OrganizationRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** A new organization and its (operator-proven) domains, in one transaction with its audit entry. */
  async create(
    org: { id: string; name: string; createdAt: string },
    domains: string[],
    { audit, at }: Audited,
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('organizations')
        .values({ id: org.id, name: org.name, created_at: org.createdAt })
        .execute();
      await trx
        .insertInto('domains')
        .values(
          domains.map((domain) => ({
            org_id: org.id,
            domain,
            created_at: org.createdAt,
            proven_by: 'operator',
            proven_at: org.createdAt,
          })),
        )
        .execute();
      await recordAudit(trx, audit, at);
    });
  }

  /** Every organization (by name), and every domain and claim (by domain). */
  async all(): Promise<{
    orgs: OrganizationsTable[];
    domains: { org_id: string; domain: string }[];
    claims: { org_id: string; domain: string }[];
  }> {
    const [orgs, domains, claims] = await Promise.all([
      this.db.selectFrom('organizations').selectAll().orderBy('name').orderBy('id').execute(),
      this.db.selectFrom('domains').select(['org_id', 'domain']).orderBy('domain').execute(),
      this.db.selectFrom('domain_claims').select(['org_id', 'domain']).orderBy('domain').execute(),
    ]);
    return { orgs, domains, claims };
  }

  async byId(orgId: string): Promise<OrganizationsTable | undefined> {
    return this.db.selectFrom('organizations').selectAll().where('id', '=', orgId).executeTakeFirst();
  }

  /** The organization's proven domains and pending claims, each sorted. */
  async domainNames(orgId: string): Promise<{ domains: string[]; claims: string[] }> {
    const [domains, claims] = await Promise.all([
      this.db.selectFrom('domains').select('domain').where('org_id', '=', orgId).orderBy('domain').execute(),
      this.db
        .selectFrom('domain_claims')
        .select('domain')
        .where('org_id', '=', orgId)
        .orderBy('domain')
        .execute(),
    ]);
    return { domains: domains.map((d) => d.domain), claims: claims.map((d) => d.domain) };
  }

  /** The organization's proven domains and pending claims, whole rows. */
  async domainRows(
    orgId: string,
  ): Promise<{ proven: Selectable<DomainsTable>[]; claims: DomainClaimsTable[] }> {
    const [proven, claims] = await Promise.all([
      this.db.selectFrom('domains').selectAll().where('org_id', '=', orgId).execute(),
      this.db.selectFrom('domain_claims').selectAll().where('org_id', '=', orgId).execute(),
    ]);
    return { proven, claims };
  }

  async exists(orgId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('organizations')
      .select('id')
      .where('id', '=', orgId)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** The organization owning a (proven) domain. */
  async ownerOf(domain: string): Promise<{ id: string; name: string } | undefined> {
    return this.db
      .selectFrom('domains')
      .innerJoin('organizations', 'organizations.id', 'domains.org_id')
      .select(['organizations.id', 'organizations.name'])
      .where('domains.domain', '=', domain)
      .executeTakeFirst();
  }

  /** One of `domains` some organization owns already, if any. */
  async firstTaken(domains: string[]): Promise<string | undefined> {
    const taken = await this.db
      .selectFrom('domains')
      .select('domain')
      .where('domain', 'in', domains)
      .executeTakeFirst();
    return taken?.domain;
  }

  /** Changes the organization's name or licensed seats, with its audit entry. */
  async update(
    orgId: string,
    set: { name: string } | { licensed_seats: number | null },
    { audit, at }: Audited,
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('organizations').set(set).where('id', '=', orgId).execute();
      await recordAudit(trx, audit, at);
    });
  }

  /** Deletes the organization and every row it owns, with its audit entry. */
  async delete(orgId: string, { audit, at }: Audited): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      // Children first: SQLite enforces the cascades too, but deleting explicitly keeps both dialects equal.
      for (const table of ORG_OWNED_TABLES) {
        await trx.deleteFrom(table).where('org_id', '=', orgId).execute();
      }
      await trx.deleteFrom('sessions').where('org_id', '=', orgId).execute();
      await trx.deleteFrom('organizations').where('id', '=', orgId).execute();
      await recordAudit(trx, audit, at);
    });
  }

  /** Claims a domain (pending until proven), with its audit entry; the same claim twice keeps the first token. */
  async claim(orgId: string, domain: string, token: string, now: string, audited: Audited): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('domain_claims')
        .values({ org_id: orgId, domain, token, created_at: now })
        // The same claim made twice at once: the first one's token stands.
        .onConflict((oc) => oc.columns(['org_id', 'domain']).doNothing())
        .execute();
      await recordAudit(trx, audited.audit, audited.at);
    });
  }

  /**
   * Makes `domain` count for `orgId`, fulfilling its claim, with its audit entry. Other
   * organizations' claims stay, so nothing vanishes from their lists: their Verify now answers
   * "not available".
   */
  async prove(orgId: string, domain: string, provenBy: string, now: string, audited: Audited): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await proveIn(trx, orgId, domain, provenBy, now);
      await recordAudit(trx, audited.audit, audited.at);
    });
  }

  /** The token a pending domain's TXT record must carry; undefined when the domain is not claimed. */
  async claimToken(orgId: string, domain: string): Promise<string | undefined> {
    const claim = await this.db
      .selectFrom('domain_claims')
      .select('token')
      .where('org_id', '=', orgId)
      .where('domain', '=', domain)
      .executeTakeFirst();
    return claim?.token;
  }

  /** Keeps the outcome of a claim's last check. */
  async recordCheck(orgId: string, domain: string, at: string, outcome: string): Promise<void> {
    await this.db
      .updateTable('domain_claims')
      .set({ checked_at: at, check_outcome: outcome })
      .where('org_id', '=', orgId)
      .where('domain', '=', domain)
      .execute();
  }

  /** Removes a proven domain or a pending claim, with its audit entry. */
  async removeDomain(orgId: string, domain: string, pending: boolean, audited: Audited): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .deleteFrom(pending ? 'domain_claims' : 'domains')
        .where('org_id', '=', orgId)
        .where('domain', '=', domain)
        .execute();
      await recordAudit(trx, audited.audit, audited.at);
    });
  }
}

async function proveIn(
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
