import { createHash, randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import { normalizeAddress } from '../directory/addresses.js';
import { AppError, invalid, notFound } from '../directory/errors.js';
import type { Role, UserStatus } from '../directory/model.js';
import type { Principal } from '../directory/permissions.js';
import { type MailboxKind, signInRefusal } from '../directory/recipients.js';
import { recordAudit } from '../store/audit.js';
import type { Store } from '../store/database.js';
import type { Runtime } from './clock.js';

const SESSION_HOURS = 12;
/** The operator account created on first start. */
export const FIRST_OPERATOR_EMAIL = 'admin@entrasync.local';

/** A signed-in session: the principal, and the CSRF token its state-changing requests must echo. */
export interface Session {
  principal: Principal;
  csrfToken: string;
  expiresAt: string;
}

/** Passwords (argon2id), sessions in the database, API tokens (stored hashed). */
export class AuthService {
  constructor(
    private readonly store: Store,
    private readonly runtime: Runtime,
  ) {}

  /**
   * Creates the first operator with a generated password when there is none, and returns that
   * password (the only time it exists in clear). Returns null when an operator exists already —
   * also when another process created it at the same moment.
   */
  async bootstrapOperator(): Promise<{ email: string; password: string } | null> {
    const existing = await this.store.db.selectFrom('operators').select('id').executeTakeFirst();
    if (existing) return null;
    const password = randomBytes(15).toString('base64url');
    try {
      await this.store.db
        .insertInto('operators')
        .values({
          id: this.runtime.newId(),
          email: FIRST_OPERATOR_EMAIL,
          password_hash: await hashPassword(password),
          setup_token_hash: null,
          setup_token_expires_at: null,
          created_at: this.runtime.now().toISOString(),
        })
        .execute();
    } catch (error) {
      if (this.store.dialect.isUniqueViolation(error)) return null;
      throw error;
    }
    return { email: FIRST_OPERATOR_EMAIL, password };
  }

  /** Sets (or creates) an operator's password. */
  async setOperatorPassword(email: string, password: string): Promise<void> {
    const address = normalizeAddress(email) ?? email.trim().toLowerCase();
    const hash = await hashPassword(checkPassword(password));
    const updated = await this.store.db
      .updateTable('operators')
      .set({ password_hash: hash })
      .where('email', '=', address)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) {
      await this.store.db
        .insertInto('operators')
        .values({
          id: this.runtime.newId(),
          email: address,
          password_hash: hash,
          setup_token_hash: null,
          setup_token_expires_at: null,
          created_at: this.runtime.now().toISOString(),
        })
        .execute();
    }
  }

  /** Checks a password and opens a session; the error never says which of address or password was wrong. */
  async login(email: string, password: string): Promise<{ token: string; session: Session }> {
    const address = email.trim().toLowerCase();
    const wrong = new AppError('unauthenticated', 'The address or the password is not right.');
    const operator = await this.store.db
      .selectFrom('operators')
      .selectAll()
      .where('email', '=', address)
      .executeTakeFirst();
    let principal: Principal;
    if (operator) {
      if (!(await verifyPassword(operator.password_hash, password))) throw wrong;
      principal = { type: 'operator', id: operator.id, email: operator.email };
    } else {
      const user = await this.store.db
        .selectFrom('users')
        .select(['id', 'org_id', 'role', 'status', 'mailbox', 'email', 'password_hash'])
        .where('email', '=', address)
        .executeTakeFirst();
      if (!(await verifyPassword(user?.password_hash ?? null, password)) || !user) throw wrong;
      const refusal = signInRefusal(recipient(user));
      if (refusal) throw new AppError('forbidden', refusal);
      principal = {
        type: 'user',
        id: user.id,
        orgId: user.org_id,
        role: user.role as Role,
        email: user.email,
      };
    }
    const token = randomBytes(32).toString('base64url');
    const now = this.runtime.now();
    const session: Session = {
      principal,
      csrfToken: randomBytes(24).toString('base64url'),
      expiresAt: new Date(now.getTime() + SESSION_HOURS * 3600_000).toISOString(),
    };
    // Expired sessions are dead weight; sign-in is a natural, infrequent moment to drop them.
    await this.store.db.deleteFrom('sessions').where('expires_at', '<', now.toISOString()).execute();
    await this.store.db
      .insertInto('sessions')
      .values({
        id_hash: sha256(token),
        principal_type: principal.type === 'operator' ? 'operator' : 'user',
        principal_id: principal.id,
        org_id: principal.type === 'user' ? principal.orgId : null,
        csrf_token: session.csrfToken,
        created_at: now.toISOString(),
        expires_at: session.expiresAt,
      })
      .execute();
    await recordAudit(
      this.store.db,
      {
        orgId: principal.type === 'user' ? principal.orgId : null,
        actor: address,
        action: 'auth.login',
        targetType: principal.type,
        targetId: principal.id,
      },
      now,
    );
    return { token, session };
  }

  /** The session behind a cookie value, or null when unknown or expired. Reads role and status fresh. */
  async session(token: string): Promise<Session | null> {
    const row = await this.store.db
      .selectFrom('sessions')
      .selectAll()
      .where('id_hash', '=', sha256(token))
      .executeTakeFirst();
    if (!row || row.expires_at <= this.runtime.now().toISOString()) return null;
    const principal = await this.#principal(row.principal_type, row.principal_id);
    if (!principal) return null;
    return { principal, csrfToken: row.csrf_token, expiresAt: row.expires_at };
  }

  async logout(token: string): Promise<void> {
    await this.store.db.deleteFrom('sessions').where('id_hash', '=', sha256(token)).execute();
  }

  /** Creates an API token; the clear value is returned once and stored only as a hash. */
  async createApiToken(input: { name: string; orgId: string | null; createdBy: string }): Promise<{
    id: string;
    token: string;
  }> {
    const name = input.name.trim();
    if (!name) throw invalid('name', 'Give the token a name that says what uses it.');
    const id = this.runtime.newId();
    const token = `es_${randomBytes(30).toString('base64url')}`;
    await this.store.db
      .insertInto('api_tokens')
      .values({
        id,
        org_id: input.orgId,
        name,
        token_hash: sha256(token),
        created_by: input.createdBy,
        created_at: this.runtime.now().toISOString(),
        last_used_at: null,
      })
      .execute();
    return { id, token };
  }

  async listApiTokens(orgId: string | null) {
    const rows = await this.store.db
      .selectFrom('api_tokens')
      .select(['id', 'org_id', 'name', 'created_by', 'created_at', 'last_used_at'])
      .where('org_id', orgId === null ? 'is' : '=', orgId)
      .orderBy('created_at')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      orgId: r.org_id,
      name: r.name,
      createdBy: r.created_by,
      createdAt: r.created_at,
      lastUsedAt: r.last_used_at,
    }));
  }

  async revokeApiToken(id: string, orgId: string | null): Promise<void> {
    const result = await this.store.db
      .deleteFrom('api_tokens')
      .where('id', '=', id)
      .where('org_id', orgId === null ? 'is' : '=', orgId)
      .executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound(`No API token ${id}.`);
  }

  /** The principal behind a bearer token, or null. */
  async apiToken(token: string): Promise<Principal | null> {
    const row = await this.store.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('token_hash', '=', sha256(token))
      .executeTakeFirst();
    if (!row) return null;
    await this.store.db
      .updateTable('api_tokens')
      .set({ last_used_at: this.runtime.now().toISOString() })
      .where('id', '=', row.id)
      .execute();
    return { type: 'token', id: row.id, name: row.name, orgId: row.org_id };
  }

  async #principal(type: 'operator' | 'user', id: string): Promise<Principal | null> {
    if (type === 'operator') {
      const op = await this.store.db
        .selectFrom('operators')
        .select(['id', 'email'])
        .where('id', '=', id)
        .executeTakeFirst();
      return op ? { type: 'operator', id: op.id, email: op.email } : null;
    }
    const user = await this.store.db
      .selectFrom('users')
      .select(['id', 'org_id', 'role', 'status', 'mailbox', 'email'])
      .where('id', '=', id)
      .executeTakeFirst();
    // A user demoted to silent, deactivated or found to be a functional account loses the session at once.
    if (!user || signInRefusal(recipient(user))) return null;
    return { type: 'user', id: user.id, orgId: user.org_id, role: user.role as Role, email: user.email };
  }
}

/** Minimum password rules: long enough to resist guessing, short enough to hash. */
export function checkPassword(password: string): string {
  if (password.length < 12) throw invalid('password', 'The password needs at least 12 characters.');
  if (password.length > 512) throw invalid('password', 'The password is longer than 512 characters.');
  return password;
}

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id });
}

// Verified against when there is no account (or no password), so a wrong address takes as long
// as a wrong password and sign-in does not reveal which addresses exist.
let dummyHash: Promise<string> | undefined;

async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  if (!hash) {
    dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
    await argon2.verify(await dummyHash, password);
    return false;
  }
  return argon2.verify(hash, password);
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** A users row as the recipient rules read it. */
function recipient(row: { role: string; status: string; mailbox: string | null }) {
  return {
    role: row.role as Role,
    status: row.status as UserStatus,
    mailbox: row.mailbox as MailboxKind | null,
  };
}
