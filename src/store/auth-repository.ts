import { type Kysely, sql } from 'kysely';
import { type AuditEntry, recordAudit } from './audit.js';
import { type Account, endSessions, revokeTokensOf, sha256 } from './credentials.js';
import type { ApiTokensTable, Database, OperatorsTable, SessionsTable } from './schema.js';

/** A users row as sign-in and token checks read it. */
export interface UserAccountRow {
  id: string;
  org_id: string;
  role: string;
  status: string;
  mailbox: string | null;
  email: string;
}

/** Operators, sessions and API tokens, and the users rows sign-in reads. Hashing is the caller's. */
export class AuthRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async anyOperator(): Promise<boolean> {
    return (await this.db.selectFrom('operators').select('id').executeTakeFirst()) !== undefined;
  }

  async insertOperator(row: OperatorsTable): Promise<void> {
    await this.db.insertInto('operators').values(row).execute();
  }

  /** Sets an operator's password hash; the operator's id, or undefined when no operator has the address. */
  async setOperatorPasswordHash(email: string, hash: string): Promise<string | undefined> {
    const updated = await this.db
      .updateTable('operators')
      .set({ password_hash: hash })
      .where('email', '=', email)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) return undefined;
    const operator = await this.db
      .selectFrom('operators')
      .select('id')
      .where('email', '=', email)
      .executeTakeFirstOrThrow();
    return operator.id;
  }

  async operatorByEmail(email: string): Promise<OperatorsTable | undefined> {
    return this.db.selectFrom('operators').selectAll().where('email', '=', email).executeTakeFirst();
  }

  async operatorById(id: string): Promise<{ id: string; email: string } | undefined> {
    return this.db.selectFrom('operators').select(['id', 'email']).where('id', '=', id).executeTakeFirst();
  }

  /** The first operators' addresses, oldest first. */
  async operatorEmails(limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('operators')
      .select('email')
      .orderBy('created_at')
      .limit(limit)
      .execute();
    return rows.map((r) => r.email);
  }

  async userByEmail(email: string): Promise<(UserAccountRow & { password_hash: string | null }) | undefined> {
    return this.db
      .selectFrom('users')
      .select(['id', 'org_id', 'role', 'status', 'mailbox', 'email', 'password_hash'])
      .where('email', '=', email)
      .executeTakeFirst();
  }

  async userById(id: string): Promise<UserAccountRow | undefined> {
    return this.db
      .selectFrom('users')
      .select(['id', 'org_id', 'role', 'status', 'mailbox', 'email'])
      .where('id', '=', id)
      .executeTakeFirst();
  }

  /** Opens a session (stored by the hash of its cookie value), dropping expired ones first. */
  async openSession(row: SessionsTable, now: string): Promise<void> {
    // Expired sessions are dead weight; sign-in is a natural, infrequent moment to drop them.
    await this.db.deleteFrom('sessions').where('expires_at', '<', now).execute();
    await this.db.insertInto('sessions').values(row).execute();
  }

  async session(token: string): Promise<SessionsTable | undefined> {
    return this.db.selectFrom('sessions').selectAll().where('id_hash', '=', sha256(token)).executeTakeFirst();
  }

  async deleteSession(token: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id_hash', '=', sha256(token)).execute();
  }

  endSessions(account: Account): Promise<void> {
    return endSessions(this.db, account);
  }

  revokeTokensOf(account: Account): Promise<void> {
    return revokeTokensOf(this.db, account);
  }

  audit(entry: AuditEntry, at: Date): Promise<void> {
    return recordAudit(this.db, entry, at);
  }

  async insertApiToken(row: ApiTokensTable): Promise<void> {
    await this.db.insertInto('api_tokens').values(row).execute();
  }

  /** The accounts that created the tokens of one organization (null: operator tokens). */
  async tokenCreators(orgId: string | null) {
    return this.db
      .selectFrom('api_tokens')
      .select(['creator_type', 'creator_id'])
      .distinct()
      .where('org_id', orgId === null ? 'is' : '=', orgId)
      .execute();
  }

  /** The tokens of one organization (null: operator tokens), oldest first, without their hashes. */
  async apiTokens(orgId: string | null) {
    return this.db
      .selectFrom('api_tokens')
      .select([
        'id',
        'org_id',
        'name',
        'created_by',
        'created_at',
        'last_used_at',
        'expires_at',
        'can_create_tokens',
      ])
      .where('org_id', orgId === null ? 'is' : '=', orgId)
      .orderBy('created_at')
      .execute();
  }

  /** Deletes a token of one organization (null: an operator token); whether there was one. */
  async deleteApiToken(id: string, orgId: string | null): Promise<boolean> {
    const result = await this.db
      .deleteFrom('api_tokens')
      .where('id', '=', id)
      .where('org_id', orgId === null ? 'is' : '=', orgId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async apiTokenByValue(token: string): Promise<ApiTokensTable | undefined> {
    return this.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('token_hash', '=', sha256(token))
      .executeTakeFirst();
  }

  async apiTokenById(id: string) {
    return this.db
      .selectFrom('api_tokens')
      .select(['creator_type', 'creator_id', 'can_create_tokens', 'expires_at'])
      .where('id', '=', id)
      .executeTakeFirst();
  }

  async touchApiToken(id: string, at: string): Promise<void> {
    await this.db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
  }

  /** A user's role, status and mailbox, which decide whether their tokens stay valid. */
  async userStanding(id: string) {
    return this.db
      .selectFrom('users')
      .select(['role', 'status', 'mailbox'])
      .where('id', '=', id)
      .executeTakeFirst();
  }
}

/**
 * Per-address counts of failed sign-ins (signin_limits), shared by every process on the database.
 */
export class SigninLimitRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async lockedUntil(address: string): Promise<string | null> {
    const row = await this.db
      .selectFrom('signin_limits')
      .select('locked_until')
      .where('address', '=', address)
      .executeTakeFirst();
    return row?.locked_until ?? null;
  }

  /** Counts one failure in one statement (failures arriving at once in several processes each count). */
  async countFailure(address: string, at: string): Promise<number> {
    const row = await this.db
      .insertInto('signin_limits')
      .values({ address, failures: 1, locked_until: null, updated_at: at })
      .onConflict((oc) =>
        oc
          .column('address')
          .doUpdateSet({ failures: sql<number>`signin_limits.failures + 1`, updated_at: at }),
      )
      .returning('failures')
      .executeTakeFirstOrThrow();
    return Number(row.failures);
  }

  async lock(address: string, until: string): Promise<void> {
    await this.db
      .updateTable('signin_limits')
      .set({ locked_until: until })
      .where('address', '=', address)
      .execute();
  }

  /** Forgets addresses with no attempt since `before`. */
  async forgetBefore(before: string): Promise<void> {
    await this.db.deleteFrom('signin_limits').where('updated_at', '<', before).execute();
  }

  async forget(address: string): Promise<void> {
    await this.db.deleteFrom('signin_limits').where('address', '=', address).execute();
  }
}
