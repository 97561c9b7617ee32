import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import type { ServedPrincipal, Session } from '../contract/auth.js';
import type { Equal } from '../contract/common.js';
import { TOKEN_DAYS } from '../contract/limits.js';
import type { ApiToken, CreatedApiToken } from '../contract/organizations.js';
import { normalizeAddress } from '../directory/addresses.js';
import { AppError, invalid, notFound } from '../directory/errors.js';
import type { Role, UserStatus } from '../directory/model.js';
import type { Principal } from '../directory/permissions.js';
import { type MailboxKind, signInRefusal } from '../directory/recipients.js';
import { AuthRepository } from '../store/auth-repository.js';
import { type Account, sha256 } from '../store/credentials.js';
import type { Store } from '../store/database.js';
import type { Runtime } from './clock.js';
import { passwordChecks, SigninLimits } from './signin-limits.js';

const SESSION_HOURS = 12;
const DAY_MS = 86_400_000;

/** How long an API token lives: 90 days unless asked otherwise, never more than a year. */
export { TOKEN_DAYS };
/** The operator account created on first start. */
export const FIRST_OPERATOR_EMAIL = 'admin@entrasync.local';

/** A signed-in session: the principal, and the CSRF token its state-changing requests must echo. */
export type { Session };

// Who may do what is decided on the permissions' Principal; the session serves it whole.
const _principalIsServed: Equal<Principal, ServedPrincipal> = true;

/** What makes an API token. */
export interface NewApiToken {
  name: string;
  orgId: string | null;
  /** Who the request came from: the token dies with this account. Absent: the CLI, no account. */
  creator?: Principal;
  /** For people to read in the token list: the creator's address, `token:name` or `cli`. */
  createdBy: string;
  /** 1 to TOKEN_DAYS.max; TOKEN_DAYS.default when absent. */
  expiresInDays?: number;
  /** Whether requests made with the new token may create tokens. */
  canCreateTokens?: boolean;
}

/** Passwords (argon2id), sessions in the database, API tokens (stored hashed). */
export class AuthService {
  readonly #repo: AuthRepository;

  constructor(
    private readonly store: Store,
    private readonly runtime: Runtime,
  ) {
    this.#repo = new AuthRepository(store.db);
  }

  /** A few operators' addresses, oldest first (for a hint naming who may sign in). */
  operatorEmails(limit: number): Promise<string[]> {
    return this.#repo.operatorEmails(limit);
  }

  /**
   * Creates the first operator with a generated password when there is none, and returns that
   * password (the only time it exists in clear). Returns null when an operator exists already —
   * also when another process created it at the same moment.
   */
  async bootstrapOperator(): Promise<{ email: string; password: string } | null> {
    if (await this.#repo.anyOperator()) return null;
    const password = randomBytes(15).toString('base64url');
    try {
      await this.#repo.insertOperator({
        id: this.runtime.newId(),
        email: FIRST_OPERATOR_EMAIL,
        password_hash: await hashPassword(password),
        setup_token_hash: null,
        setup_token_expires_at: null,
        created_at: this.runtime.now().toISOString(),
      });
    } catch (error) {
      if (this.store.dialect.isUniqueViolation(error)) return null;
      throw error;
    }
    return { email: FIRST_OPERATOR_EMAIL, password };
  }

  /** Sets (or creates) an operator's password. */
  async setOperatorPassword(email: string, password: string): Promise<void> {
    // An operator signs in with this address: one that cannot be typed at the sign-in form is a mistake.
    const address = normalizeAddress(email);
    if (!address) throw invalid('email', `"${email}" is not an email address (name@domain).`);
    const hash = await hashPassword(checkPassword(password));
    const operatorId = await this.#repo.setOperatorPasswordHash(address, hash);
    if (operatorId !== undefined) {
      // Whoever knew the old password may be signed in with it: their sessions end now.
      await this.#repo.endSessions({ type: 'operator', id: operatorId });
    } else {
      await this.#repo.insertOperator({
        id: this.runtime.newId(),
        email: address,
        password_hash: hash,
        setup_token_hash: null,
        setup_token_expires_at: null,
        created_at: this.runtime.now().toISOString(),
      });
    }
  }

  /** Checks a password and opens a session; the error never says which of address or password was wrong. */
  async login(email: string, password: string): Promise<{ token: string; session: Session }> {
    const address = email.trim().toLowerCase();
    const wrong = new AppError('unauthenticated', 'The address or the password is not right.');
    const limits = new SigninLimits(this.store, this.runtime);
    await limits.check(address);
    const passwordIsRight = (hash: string | null) => passwordChecks.run(() => verifyPassword(hash, password));
    const refuse = async () => {
      await limits.failed(address);
      return wrong;
    };
    const operator = await this.#repo.operatorByEmail(address);
    let principal: Principal;
    if (operator) {
      if (!(await passwordIsRight(operator.password_hash))) throw await refuse();
      principal = { type: 'operator', id: operator.id, email: operator.email };
    } else {
      const user = await this.#repo.userByEmail(address);
      if (!(await passwordIsRight(user?.password_hash ?? null)) || !user) throw await refuse();
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
    await limits.succeeded(address);
    const token = randomBytes(32).toString('base64url');
    const now = this.runtime.now();
    const session: Session = {
      principal,
      csrfToken: randomBytes(24).toString('base64url'),
      expiresAt: new Date(now.getTime() + SESSION_HOURS * 3600_000).toISOString(),
    };
    await this.#repo.openSession(
      {
        id_hash: sha256(token),
        principal_type: principal.type === 'operator' ? 'operator' : 'user',
        principal_id: principal.id,
        org_id: principal.type === 'user' ? principal.orgId : null,
        csrf_token: session.csrfToken,
        created_at: now.toISOString(),
        expires_at: session.expiresAt,
      },
      now.toISOString(),
    );
    await this.#repo.audit(
      {
        orgId: principal.type === 'user' ? principal.orgId : null,
        actor: address,
        action: 'auth.login',
        targetType: principal.type,
        targetId: principal.id,
        targetLabel: address,
      },
      now,
    );
    return { token, session };
  }

  /** The session behind a cookie value, or null when unknown or expired. Reads role and status fresh. */
  async session(token: string): Promise<Session | null> {
    const row = await this.#repo.session(token);
    if (!row || row.expires_at <= this.runtime.now().toISOString()) return null;
    const principal = await this.#principal(row.principal_type, row.principal_id);
    if (!principal) return null;
    return { principal, csrfToken: row.csrf_token, expiresAt: row.expires_at };
  }

  async logout(token: string): Promise<void> {
    await this.#repo.deleteSession(token);
  }

  /** Ends every session of the account signed in with this session, this one included. */
  async logoutEverywhere(token: string): Promise<void> {
    const principal = (await this.session(token))?.principal;
    // Sessions belong to operators and users only; a token principal never has one.
    if (!principal || principal.type === 'token') return;
    await this.#repo.endSessions({ type: principal.type, id: principal.id });
    await this.#repo.audit(
      {
        orgId: principal.type === 'user' ? principal.orgId : null,
        actor: principal.email,
        action: 'auth.logout_all',
        targetType: principal.type,
        targetId: principal.id,
        targetLabel: principal.email,
      },
      this.runtime.now(),
    );
  }

  /** Creates an API token; the clear value is returned once and stored only as a hash. */
  async createApiToken(input: NewApiToken): Promise<CreatedApiToken> {
    const name = input.name.trim();
    if (!name) throw invalid('name', 'Give the token a name that says what uses it.');
    const days = input.expiresInDays ?? TOKEN_DAYS.default;
    if (!Number.isInteger(days) || days < 1 || days > TOKEN_DAYS.max) {
      throw invalid(
        'expiresInDays',
        `A token lives 1 to ${TOKEN_DAYS.max} days (whole days): ${days} is not allowed.`,
      );
    }
    const owner = await this.#tokenOwner(input.creator ?? null);
    const now = this.runtime.now();
    let expiresAt = new Date(now.getTime() + days * DAY_MS).toISOString();
    // A token made by a token cannot outlive it, or a leaked token could renew itself forever.
    if (owner.notAfter && owner.notAfter < expiresAt) expiresAt = owner.notAfter;
    const id = this.runtime.newId();
    const token = `es_${randomBytes(30).toString('base64url')}`;
    await this.#repo.insertApiToken({
      id,
      org_id: input.orgId,
      name,
      token_hash: sha256(token),
      created_by: input.createdBy,
      created_at: now.toISOString(),
      last_used_at: null,
      expires_at: expiresAt,
      creator_type: owner.account?.type ?? null,
      creator_id: owner.account?.id ?? null,
      can_create_tokens: input.canCreateTokens ?? false,
    });
    return { id, token, expiresAt };
  }

  /**
   * Tokens of one organization (null: operator tokens), expired ones included so they can be
   * cleaned up; tokens whose creator may no longer hold them (an account a sync removed or
   * deactivated) are revoked first, so the list shows only tokens that could still work.
   */
  async listApiTokens(orgId: string | null): Promise<ApiToken[]> {
    const creators = await this.#repo.tokenCreators(orgId);
    for (const c of creators) {
      if (!c.creator_type || !c.creator_id) continue;
      const account: Account = { type: c.creator_type, id: c.creator_id };
      if (!(await this.#mayHoldTokens(account))) await this.#repo.revokeTokensOf(account);
    }
    const rows = await this.#repo.apiTokens(orgId);
    return rows.map((r) => ({
      id: r.id,
      orgId: r.org_id,
      name: r.name,
      createdBy: r.created_by,
      createdAt: r.created_at,
      lastUsedAt: r.last_used_at,
      expiresAt: r.expires_at,
      canCreateTokens: r.can_create_tokens,
    }));
  }

  async revokeApiToken(id: string, orgId: string | null): Promise<void> {
    if (!(await this.#repo.deleteApiToken(id, orgId))) throw notFound(`No API token ${id}.`);
  }

  /** The principal behind a bearer token; a 401 saying why when it is unknown, expired or orphaned. */
  async apiToken(token: string): Promise<Principal> {
    const row = await this.#repo.apiTokenByValue(token);
    if (!row) throw new AppError('unauthenticated', 'The API token is not valid (revoked or mistyped).');
    const now = this.runtime.now().toISOString();
    if (row.expires_at <= now) {
      throw new AppError(
        'unauthenticated',
        `The API token "${row.name}" expired on ${row.expires_at}: create a new one.`,
      );
    }
    // The directory revokes a creator's tokens when it deletes, deactivates or demotes them; a
    // sync from Entra can do the same to an account, so the creator is checked at each use too.
    if (row.creator_type && row.creator_id) {
      const creator: Account = { type: row.creator_type, id: row.creator_id };
      if (!(await this.#mayHoldTokens(creator))) {
        await this.#repo.revokeTokensOf(creator);
        throw new AppError(
          'unauthenticated',
          'The API token was revoked: the account that created it was removed or may no longer administer.',
        );
      }
    }
    await this.#repo.touchApiToken(row.id, now);
    return { type: 'token', id: row.id, name: row.name, orgId: row.org_id };
  }

  /** The account a new token belongs to; a token creating a token passes on its own account. */
  async #tokenOwner(creator: Principal | null): Promise<{ account: Account | null; notAfter?: string }> {
    if (!creator) return { account: null };
    if (creator.type !== 'token') return { account: { type: creator.type, id: creator.id } };
    const parent = await this.#repo.apiTokenById(creator.id);
    if (!parent?.can_create_tokens) {
      throw new AppError(
        'forbidden',
        'This API token may not create tokens: create one in the console or with `entrasync tokens create`, or use a token created with canCreateTokens.',
      );
    }
    const account: Account | null =
      parent.creator_type && parent.creator_id ? { type: parent.creator_type, id: parent.creator_id } : null;
    return { account, notAfter: parent.expires_at };
  }

  async #mayHoldTokens(account: Account): Promise<boolean> {
    if (account.type === 'operator') {
      return (await this.#repo.operatorById(account.id)) !== undefined;
    }
    const user = await this.#repo.userStanding(account.id);
    return user !== undefined && mayHoldTokens(recipient(user));
  }

  async #principal(type: 'operator' | 'user', id: string): Promise<Principal | null> {
    if (type === 'operator') {
      const op = await this.#repo.operatorById(id);
      return op ? { type: 'operator', id: op.id, email: op.email } : null;
    }
    const user = await this.#repo.userById(id);
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

/**
 * Whether a user's API tokens stay valid: only while the user administers the organization and
 * may sign in (not deleted, inactive, demoted or found to be a functional account).
 */
export function mayHoldTokens(user: {
  role: Role;
  status: UserStatus;
  mailbox: MailboxKind | null;
}): boolean {
  return user.role === 'org_admin' && signInRefusal(user) === null;
}

/** A users row as the recipient rules read it. */
function recipient(row: { role: string; status: string; mailbox: string | null }) {
  return {
    role: row.role as Role,
    status: row.status as UserStatus,
    mailbox: row.mailbox as MailboxKind | null,
  };
}
