import type { GroupView, UserView } from '../contract/directory.js';
import { normalizeAddress, type OrgDomains, parseAddress, parseAliases } from '../directory/addresses.js';
import { conflict, invalid, notFound } from '../directory/errors.js';
import { effectiveMembers } from '../directory/membership.js';
import {
  GROUP_KINDS,
  type Group,
  type GroupKind,
  type MemberRef,
  ROLES,
  type Role,
  USER_STATUSES,
  type User,
  type UserStatus,
} from '../directory/model.js';
import { recipientFacts } from '../directory/recipients.js';
import { recordAudit } from '../store/audit.js';
import { endSessions, revokeTokensOf } from '../store/credentials.js';
import { inTransaction, type Store } from '../store/database.js';
import { DirectoryRepository, type ListQuery, type UserListQuery } from '../store/directory-repository.js';
import { mayHoldTokens } from './auth.js';
import type { Runtime } from './clock.js';

/** A user and a group as the CLI and API show them: the contract's (src/contract/directory.ts). */
export type { GroupView, UserView } from '../contract/directory.js';

export interface NewUser {
  email: string;
  aliases?: string[];
  firstName?: string | null;
  lastName?: string | null;
  displayName?: string | null;
  role?: string;
  status?: string;
  exempt?: boolean;
}

export type UserPatch = Partial<NewUser>;

export interface NewGroup {
  name: string;
  kind: string;
  email?: string | null;
  aliases?: string[];
  /** Member users by address; member groups by address or name. */
  members?: string[];
  exempt?: boolean;
}

export type GroupPatch = Partial<NewGroup>;

/** One organization's users and groups: validation, uniqueness, audit. */
export class DirectoryService {
  readonly repo: DirectoryRepository;

  constructor(
    private readonly store: Store,
    readonly orgId: string,
    private readonly domains: OrgDomains,
    private readonly runtime: Runtime,
  ) {
    this.repo = new DirectoryRepository(store.db, orgId);
  }

  async listUsers(query: UserListQuery): Promise<{ items: UserView[]; total: number }> {
    const page = await this.repo.listUsers(query);
    return { items: page.items.map(userView), total: page.total };
  }

  async getUser(id: string): Promise<UserView> {
    return userView(await this.#user(id));
  }

  /** A user by id, or by primary address or alias. */
  async findUser(ref: string): Promise<User> {
    const address = normalizeAddress(ref);
    const user = address ? await this.repo.findUserByAddress(address) : await this.repo.getUser(ref);
    if (!user) throw notFound(`No user ${ref} in this organization.`);
    return user;
  }

  async addUser(input: NewUser, actor: string): Promise<UserView> {
    const email = parseAddress(input.email ?? '', this.domains, 'email');
    const now = this.runtime.now().toISOString();
    const user: User = {
      id: this.runtime.newId(),
      orgId: this.orgId,
      email,
      aliases: parseAliases(input.aliases ?? [], email, this.domains),
      firstName: parseName(input.firstName, 'firstName'),
      lastName: parseName(input.lastName, 'lastName'),
      displayName:
        parseName(input.displayName, 'displayName') ??
        ([input.firstName, input.lastName].filter(Boolean).join(' ').trim() || null),
      role: parseRole(input.role ?? 'end_user'),
      status: parseStatus(input.status ?? 'active'),
      // Unknown: to the rules a hand-made user is a person's mailbox until Entra says otherwise.
      mailbox: null,
      source: 'manual',
      externalId: null,
      exempt: input.exempt ?? false,
      createdAt: now,
      updatedAt: now,
    };
    await this.#assertAddressesFree([user.email, ...user.aliases], user.id);
    await this.#write(
      {
        actor,
        action: 'user.create',
        targetType: 'user',
        targetId: user.id,
        targetLabel: email,
        detail: { email },
      },
      (repo) => repo.insertUser(user),
    );
    return userView(user);
  }

  async updateUser(id: string, patch: UserPatch, actor: string): Promise<UserView> {
    const current = await this.#user(id);
    const email =
      patch.email === undefined ? current.email : parseAddress(patch.email, this.domains, 'email');
    const next: User = {
      ...current,
      email,
      aliases:
        patch.aliases === undefined
          ? current.aliases.filter((a) => a !== email)
          : parseAliases(patch.aliases, email, this.domains),
      firstName: patch.firstName === undefined ? current.firstName : parseName(patch.firstName, 'firstName'),
      lastName: patch.lastName === undefined ? current.lastName : parseName(patch.lastName, 'lastName'),
      displayName:
        patch.displayName === undefined ? current.displayName : parseName(patch.displayName, 'displayName'),
      role: patch.role === undefined ? current.role : parseRole(patch.role),
      status: patch.status === undefined ? current.status : parseStatus(patch.status),
      exempt: patch.exempt ?? current.exempt,
      updatedAt: this.runtime.now().toISOString(),
    };
    await this.#assertAddressesFree([next.email, ...next.aliases], id);
    await this.#write(
      {
        actor,
        action: 'user.update',
        targetType: 'user',
        targetId: id,
        targetLabel: next.email,
        detail: changedFields(userView(current), userView(next)),
      },
      (repo) => repo.updateUser(next),
    );
    const account = { type: 'user', id } as const;
    // Sessions opened under the old role end: the user signs in again under the new one.
    if (next.role !== current.role) await endSessions(this.store.db, account);
    if (mayHoldTokens(current) && !mayHoldTokens(next)) await revokeTokensOf(this.store.db, account);
    return userView(next);
  }

  async removeUser(id: string, actor: string): Promise<void> {
    const user = await this.#user(id);
    await this.#write(
      {
        actor,
        action: 'user.delete',
        targetType: 'user',
        targetId: id,
        targetLabel: user.email,
        detail: { email: user.email },
      },
      (repo) => repo.deleteUser(id),
    );
    await endSessions(this.store.db, { type: 'user', id });
    await revokeTokensOf(this.store.db, { type: 'user', id });
  }

  /**
   * Sets (or clears) a user's password and ends the user's sessions — all but `keepSession`
   * (a session cookie value), so whoever changes their own password stays signed in.
   */
  async setPasswordHash(id: string, hash: string | null, actor: string, keepSession?: string): Promise<void> {
    const user = await this.#user(id);
    await this.#write(
      { actor, action: 'user.password', targetType: 'user', targetId: id, targetLabel: user.email },
      (repo) => repo.setPassword(id, hash),
    );
    await endSessions(this.store.db, { type: 'user', id }, keepSession);
  }

  async listGroups(query: ListQuery): Promise<{ items: GroupView[]; total: number }> {
    const page = await this.repo.listGroups(query);
    return { items: await this.#groupViews(page.items), total: page.total };
  }

  async getGroup(id: string): Promise<GroupView & { effectiveMembers: string[] }> {
    const group = await this.#group(id);
    const [view] = await this.#groupViews([group]);
    const effective = effectiveMembers(await this.#withNestedGroups(group), group.id);
    const described = await this.repo.describeMembers(
      [...effective].map((uid) => ({ type: 'user', id: uid })),
    );
    const addresses = [...described.values()].map((m) => m.email ?? '').sort();
    return { ...view!, effectiveMembers: addresses };
  }

  async addGroup(input: NewGroup, actor: string): Promise<GroupView> {
    const email = input.email ? parseAddress(input.email, this.domains, 'email') : null;
    const aliases = parseAliases(input.aliases ?? [], email, this.domains);
    if (!email && aliases.length) throw invalid('aliases', 'A group without an address cannot have aliases.');
    const now = this.runtime.now().toISOString();
    const id = this.runtime.newId();
    const group: Group = {
      id,
      orgId: this.orgId,
      name: parseGroupName(input.name),
      kind: parseKind(input.kind),
      email,
      aliases,
      source: 'manual',
      externalId: null,
      exempt: input.exempt ?? false,
      members: await this.#resolveMembers(input.members ?? [], id),
      createdAt: now,
      updatedAt: now,
    };
    await this.#assertAddressesFree([...(email ? [email] : []), ...aliases], id);
    await this.#write(
      {
        actor,
        action: 'group.create',
        targetType: 'group',
        targetId: id,
        targetLabel: group.name,
        detail: { name: group.name },
      },
      (repo) => repo.insertGroup(group),
    );
    return (await this.#groupViews([group]))[0]!;
  }

  async updateGroup(id: string, patch: GroupPatch, actor: string): Promise<GroupView> {
    const current = await this.#group(id);
    const email =
      patch.email === undefined
        ? current.email
        : patch.email
          ? parseAddress(patch.email, this.domains, 'email')
          : null;
    const aliases =
      patch.aliases === undefined
        ? current.aliases.filter((a) => a !== email)
        : parseAliases(patch.aliases, email, this.domains);
    if (!email && aliases.length) throw invalid('aliases', 'A group without an address cannot have aliases.');
    const next: Group = {
      ...current,
      name: patch.name === undefined ? current.name : parseGroupName(patch.name),
      kind: patch.kind === undefined ? current.kind : parseKind(patch.kind),
      email,
      aliases,
      exempt: patch.exempt ?? current.exempt,
      members: patch.members === undefined ? current.members : await this.#resolveMembers(patch.members, id),
      updatedAt: this.runtime.now().toISOString(),
    };
    await this.#assertAddressesFree([...(email ? [email] : []), ...aliases], id);
    await this.#write(
      {
        actor,
        action: 'group.update',
        targetType: 'group',
        targetId: id,
        targetLabel: next.name,
        detail: { name: next.name },
      },
      (repo) => repo.updateGroup(next),
    );
    return (await this.#groupViews([next]))[0]!;
  }

  async removeGroup(id: string, actor: string): Promise<void> {
    const group = await this.#group(id);
    await this.#write(
      {
        actor,
        action: 'group.delete',
        targetType: 'group',
        targetId: id,
        targetLabel: group.name,
        detail: { name: group.name },
      },
      (repo) => repo.deleteGroup(id),
    );
  }

  async #user(id: string): Promise<User> {
    const user = await this.repo.getUser(id);
    if (!user) throw notFound(`No user with id ${id} in this organization.`);
    return user;
  }

  async #group(id: string): Promise<Group> {
    const group = await this.repo.getGroup(id);
    if (!group) throw notFound(`No group with id ${id} in this organization.`);
    return group;
  }

  /** Every address must be unused by any other object in the whole service. */
  async #assertAddressesFree(addresses: string[], ownerId: string): Promise<void> {
    const owners = await this.repo.addressOwners(addresses);
    const taken = owners.find((o) => o.ownerId !== ownerId);
    if (!taken) return;
    const field = taken.address === addresses[0] ? 'email' : 'aliases';
    throw conflict(
      field,
      taken.orgId === this.orgId
        ? `${taken.address} is already used by another ${taken.ownerType} of this organization.`
        : `${taken.address} is already used in another organization: addresses are unique across the service.`,
    );
  }

  async #resolveMembers(refs: string[], groupId: string): Promise<MemberRef[]> {
    const out = new Map<string, MemberRef>();
    for (const ref of refs) {
      const member = await this.#resolveMember(ref);
      if (member.type === 'group' && member.id === groupId) {
        throw invalid('members', `A group cannot be a member of itself (${ref}).`);
      }
      out.set(`${member.type}:${member.id}`, member);
    }
    return [...out.values()];
  }

  async #resolveMember(ref: string): Promise<MemberRef> {
    const address = normalizeAddress(ref);
    if (address) {
      const [owner] = await this.repo.addressOwners([address]);
      if (owner && owner.orgId === this.orgId) return { type: owner.ownerType, id: owner.ownerId };
      throw invalid('members', `No user or group with the address ${address} in this organization.`);
    }
    const byName = await this.repo.groupIdsNamed(ref.trim());
    if (byName.length === 1) return { type: 'group', id: byName[0]! };
    if (byName.length > 1)
      throw invalid('members', `Several groups are named "${ref}": name it by its address.`);
    throw invalid('members', `"${ref}" is neither an address nor a group name of this organization.`);
  }

  async #groupViews(groups: Group[]): Promise<GroupView[]> {
    const described = await this.repo.describeMembers(groups.flatMap((g) => g.members));
    return groups.map((g) => ({
      id: g.id,
      name: g.name,
      kind: g.kind,
      email: g.email,
      aliases: g.aliases,
      members: g.members
        .map((m) => {
          const d = described.get(m.id);
          return d ? (d.email ?? d.name ?? m.id) : m.id;
        })
        .sort(),
      source: g.source,
      externalId: g.externalId,
      exempt: g.exempt,
    }));
  }

  /** The group and every group nested in it, each loaded once (memberships may form cycles). */
  async #withNestedGroups(group: Group): Promise<Group[]> {
    const loaded = new Map<string, Group>([[group.id, group]]);
    const nestedIds = (g: Group) => g.members.filter((m) => m.type === 'group').map((m) => m.id);
    let pending = nestedIds(group);
    while (pending.length) {
      const next: string[] = [];
      for (const id of pending) {
        if (loaded.has(id)) continue;
        const nested = await this.repo.getGroup(id);
        if (!nested) continue;
        loaded.set(id, nested);
        next.push(...nestedIds(nested));
      }
      pending = next;
    }
    return [...loaded.values()];
  }

  /** Runs one change and records it in the audit log, in one transaction. */
  async #write(
    audit: {
      actor: string;
      action: string;
      targetType: string;
      targetId: string;
      targetLabel?: string;
      detail?: unknown;
    },
    work: (repo: DirectoryRepository) => Promise<void>,
  ): Promise<void> {
    try {
      await inTransaction(this.store, async (trx) => {
        await work(this.repo.with(trx));
        await recordAudit(trx, { orgId: this.orgId, ...audit }, this.runtime.now());
      });
    } catch (error) {
      // Two writers racing for one address: the unique index decides; say so like the pre-check would.
      if (this.store.dialect.isUniqueViolation(error)) {
        throw conflict(
          undefined,
          'An address in this change was taken by another change at the same moment: try again.',
        );
      }
      throw error;
    }
  }
}

/** The fields that differ between two views (for the audit log). */
function changedFields<T extends object>(
  before: T,
  after: T,
): Record<string, { before: unknown; after: unknown }> {
  const out: Record<string, { before: unknown; after: unknown }> = {};
  for (const key of Object.keys(after) as (keyof T)[]) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      out[key as string] = { before: before[key], after: after[key] };
    }
  }
  return out;
}

/** The public view of a user. */
export function userView(u: User): UserView {
  return {
    id: u.id,
    email: u.email,
    aliases: u.aliases,
    firstName: u.firstName,
    lastName: u.lastName,
    displayName: u.displayName,
    role: u.role,
    status: u.status,
    mailbox: u.mailbox,
    source: u.source,
    externalId: u.externalId,
    exempt: u.exempt,
    ...recipientFacts(u),
  };
}

function parseRole(input: string): Role {
  if ((ROLES as readonly string[]).includes(input)) return input as Role;
  throw invalid('role', `"${input}" is not a role: use one of ${ROLES.join(', ')}.`);
}

function parseStatus(input: string): UserStatus {
  if ((USER_STATUSES as readonly string[]).includes(input)) return input as UserStatus;
  throw invalid('status', `"${input}" is not a status: use one of ${USER_STATUSES.join(', ')}.`);
}

function parseKind(input: string): GroupKind {
  if ((GROUP_KINDS as readonly string[]).includes(input)) return input as GroupKind;
  throw invalid('kind', `"${input}" is not a group kind: use one of ${GROUP_KINDS.join(', ')}.`);
}

function parseName(input: string | null | undefined, field: string): string | null {
  if (input === undefined || input === null) return null;
  const name = input.trim();
  if (name.length > 256) throw invalid(field, `${field} is longer than 256 characters.`);
  return name || null;
}

function parseGroupName(input: string | undefined): string {
  const name = (input ?? '').trim();
  if (!name) throw invalid('name', 'The group name is empty: give the group a name.');
  if (name.length > 256) throw invalid('name', 'The group name is longer than 256 characters.');
  return name;
}
