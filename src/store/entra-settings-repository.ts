import type { Kysely } from 'kysely';
import { type AuditEntry, recordAudit } from './audit.js';
import type { Database, EntraSettingsTable } from './schema.js';

/** One organization's Entra connection settings (one row; the secret sealed by the caller). */
export class EntraSettingsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    readonly orgId: string,
  ) {}

  async row(): Promise<EntraSettingsTable | undefined> {
    return this.db
      .selectFrom('entra_settings')
      .selectAll()
      .where('org_id', '=', this.orgId)
      .executeTakeFirst();
  }

  /** Saves the settings (an update when `exists`, else an insert) with its audit entry, in one transaction. */
  async save(row: EntraSettingsTable, exists: boolean, audit: AuditEntry, at: Date): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      if (exists) {
        const { org_id: _o, ...fields } = row;
        await trx.updateTable('entra_settings').set(fields).where('org_id', '=', this.orgId).execute();
      } else {
        await trx.insertInto('entra_settings').values(row).execute();
      }
      await recordAudit(trx, audit, at);
    });
  }
}
