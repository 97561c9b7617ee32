import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

/** One line of the audit log: who changed what, when. */
export interface AuditEntry {
  orgId: string | null;
  actor: string;
  action: string;
  targetType: string;
  targetId: string | null;
  detail?: unknown;
}

/** Appends to the audit log (inside the caller's transaction, so the log and the change agree). */
export async function recordAudit(
  db: Kysely<Database> | Transaction<Database>,
  entry: AuditEntry,
  at: Date,
): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      org_id: entry.orgId,
      at: at.toISOString(),
      actor: entry.actor,
      action: entry.action,
      target_type: entry.targetType,
      target_id: entry.targetId,
      detail: entry.detail === undefined ? null : JSON.stringify(entry.detail),
    })
    .execute();
}

/** The newest audit entries of an organization. */
export async function listAudit(db: Kysely<Database>, orgId: string, limit: number) {
  const rows = await db
    .selectFrom('audit_log')
    .selectAll()
    .where('org_id', '=', orgId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: Number(r.id),
    at: r.at,
    actor: r.actor,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    detail: r.detail ? (JSON.parse(r.detail) as unknown) : null,
  }));
}
