import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

/** One line of the audit log: who changed what, when. */
export interface AuditEntry {
  orgId: string | null;
  actor: string;
  action: string;
  targetType: string;
  targetId: string | null;
  /**
   * The target as people know it (a user's address, a group's name, a run's trigger and start),
   * stored with the entry so it still reads well once the target is deleted or renamed.
   */
  targetLabel?: string;
  detail?: unknown;
}

/** The key of the detail JSON the target's label is kept under. */
const LABEL_KEY = 'targetLabel';

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
      detail: storedDetail(entry),
    })
    .execute();
}

/** The detail column: the entry's detail, with its target's label beside it (no column needed). */
function storedDetail(entry: AuditEntry): string | null {
  if (entry.targetLabel === undefined)
    return entry.detail === undefined ? null : JSON.stringify(entry.detail);
  const detail =
    entry.detail === undefined
      ? {}
      : typeof entry.detail === 'object' && entry.detail !== null && !Array.isArray(entry.detail)
        ? entry.detail
        : { value: entry.detail };
  return JSON.stringify({ ...detail, [LABEL_KEY]: entry.targetLabel });
}

/** The newest audit entries of an organization, each with its target's label where one is known. */
export async function listAudit(db: Kysely<Database>, orgId: string, limit: number) {
  const rows = await db
    .selectFrom('audit_log')
    .selectAll()
    .where('org_id', '=', orgId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => {
    const { label, detail } = splitDetail(r.target_type, r.detail ? (JSON.parse(r.detail) as unknown) : null);
    return {
      id: Number(r.id),
      at: r.at,
      actor: r.actor,
      action: r.action,
      targetType: r.target_type,
      targetId: r.target_id,
      /** The target as people know it; null when not recorded (show the id). */
      targetLabel: label,
      detail,
    };
  });
}

/**
 * The label out of a stored detail, the rest left as the detail. Entries written before labels
 * were stored still name a user or group where their detail did (a user's email, a group's name).
 */
function splitDetail(targetType: string, stored: unknown): { label: string | null; detail: unknown } {
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored))
    return { label: null, detail: stored };
  const { [LABEL_KEY]: label, ...rest } = stored as Record<string, unknown>;
  const detail = Object.keys(rest).length ? rest : null;
  if (typeof label === 'string') return { label, detail };
  const legacy =
    targetType === 'user'
      ? rest.email
      : targetType === 'group' || targetType === 'organization'
        ? rest.name
        : undefined;
  return { label: typeof legacy === 'string' ? legacy : null, detail: stored };
}
