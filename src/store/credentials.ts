import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** An account sessions and API tokens belong to. */
export interface Account {
  type: 'user' | 'operator';
  id: string;
}

/** sha-256 hex: sessions and tokens are stored only hashed, so a database leak hands out neither. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * Ends the account's sessions, except the one whose cookie value is `keep` (the session that
 * made the change goes on working; any other session of the account ends).
 */
export async function endSessions(db: Db, account: Account, keep?: string): Promise<void> {
  let query = db
    .deleteFrom('sessions')
    .where('principal_type', '=', account.type)
    .where('principal_id', '=', account.id);
  if (keep) query = query.where('id_hash', '!=', sha256(keep));
  await query.execute();
}

/** Revokes every API token the account created (including tokens made by those tokens). */
export async function revokeTokensOf(db: Db, account: Account): Promise<void> {
  await db
    .deleteFrom('api_tokens')
    .where('creator_type', '=', account.type)
    .where('creator_id', '=', account.id)
    .execute();
}
