import { AppError } from '../../directory/errors.js';
import type { Group, GroupKind } from '../../directory/model.js';
import {
  type AddGroupChange,
  changeId,
  type GroupFieldChanges,
  type GroupFields,
  type PlannedMember,
  type RemoveGroupChange,
  type UpdateGroupChange,
} from '../changes.js';
import { classifyGroup, readAddresses } from '../classify.js';
import type { SourceGroup } from '../source.js';
import { type Candidate, validAddresses } from './addresses.js';
import { count, type OutOfScope, type PlanContext, skippedEntry } from './context.js';
import { clean, diffAliases, diffFields } from './fields.js';
import {
  type FocusedObjects,
  groupLabel,
  type MemberRefs,
  membershipChange,
  partialMembershipChange,
  plannedMembers,
  sortMembers,
  WholeGroupNeeded,
} from './memberships.js';
import { type SourceView, unionKeys } from './view.js';

/** Groups: which Entra groups are in scope, and how each compares with its directory group. */

export type GroupCandidate = Candidate<SourceGroup> & { kind: GroupKind };

/** The source groups sorted by the scope rules, by Entra id. */
export interface ScopedGroups {
  candidates: Map<string, GroupCandidate>;
  outOfScope: Map<string, OutOfScope>;
}

/** A group this plan adds or may update, with the fields Entra wants (members aside). */
export interface PlannedGroup {
  c: GroupCandidate;
  wanted: Omit<GroupFields, 'members'>;
}

/** The first pass over groups: removals, and what every group will be as a member. */
export interface GroupSettlement {
  toRemove: RemoveGroupChange[];
  /** Entra group id → the group as a member, for every group that exists once the plan is applied. */
  refs: Map<string, PlannedMember>;
  planned: PlannedGroup[];
}

export interface GroupComparison {
  toAdd: AddGroupChange[];
  toUpdate: UpdateGroupChange[];
  toRemove: RemoveGroupChange[];
}

/**
 * Applies the scope rules (group kinds, and the kinds the policy syncs) to the source groups of
 * `keys` (default: all) and validates the addresses of those in scope.
 */
export function scopeGroups(
  ctx: PlanContext,
  source: SourceView,
  keys: Iterable<string> = source.groups.keys(),
): ScopedGroups {
  const scoped: ScopedGroups = { candidates: new Map(), outOfScope: new Map() };
  for (const ext of keys) {
    const g = source.groups.get(ext);
    if (!g) continue;
    const kind = classifyGroup(g);
    const label = clean(g.displayName) ?? ext;
    if (kind === null) {
      scoped.outOfScope.set(ext, {
        reason: 'out_of_scope',
        message: `${label} is neither mail-enabled nor a security group in Entra any more.`,
        skipped: null,
      });
      continue;
    }
    if (!ctx.policy.what[kind]) {
      // Out of scope by the admin's choice: not worth a skipped entry per group.
      scoped.outOfScope.set(ext, {
        reason: 'out_of_scope',
        message: `${label} is a ${kind} group in Entra, and ${kind} groups are not synced.`,
        skipped: null,
      });
      continue;
    }
    const a = validAddresses(
      ctx.domains,
      ctx.report,
      'group',
      ext,
      label,
      readAddresses(g.proxyAddresses, g.mail),
    );
    scoped.candidates.set(ext, {
      type: 'group',
      kind,
      src: g,
      externalId: ext,
      label,
      email: a.email,
      aliases: a.aliases,
      blocked: a.blocked,
      target: ctx.directory.groupsByExternalId.get(ext),
      linking: false,
    });
  }
  return scoped;
}

/** Every group key: Entra ids of source groups and of directory groups linked to Entra. */
export function groupKeys(ctx: PlanContext, scoped: ScopedGroups): Set<string> {
  return unionKeys(scoped.candidates, scoped.outOfScope, ctx.directory.groupsByExternalId);
}

/**
 * Compares the groups of `keys` (default: all) with the directory: adds, updates (fields and
 * members) and removals. `userRefs` must name every user the groups may list as a member; the
 * groups' own refs come from the first pass, so `keys` must also cover every group listed as a
 * member by a group compared. Candidates must have their addresses settled first. A group the
 * directory holds in part (DirectoryView.memberTotals) is compared on its members among `focused`
 * only, which `userRefs` and `keys` must then cover.
 */
export function compareGroups(
  ctx: PlanContext,
  scoped: ScopedGroups,
  userRefs: ReadonlyMap<string, PlannedMember>,
  keys: Iterable<string> = groupKeys(ctx, scoped),
  focused?: FocusedObjects,
): GroupComparison {
  const settled = settleGroups(ctx, scoped, keys);
  const refs: MemberRefs = { users: userRefs, groups: settled.refs };
  const result: GroupComparison = { toAdd: [], toUpdate: [], toRemove: settled.toRemove };
  for (const planned of settled.planned) compareGroup(ctx, planned, refs, result, focused);
  return result;
}

/**
 * The first pass: removals of synced groups without a candidate, and the refs of every group
 * that exists once the plan is applied — member lists may name a group added or renamed by the
 * same plan, so all refs are known before any member list is built.
 */
export function settleGroups(
  ctx: PlanContext,
  scoped: ScopedGroups,
  keys: Iterable<string>,
): GroupSettlement {
  const { policy, report } = ctx;
  const settled: GroupSettlement = { toRemove: [], refs: new Map(), planned: [] };
  const ref = (ext: string, id: string | null, g: { email: string | null; name: string }): PlannedMember => ({
    type: 'group',
    id,
    externalId: ext,
    label: groupLabel(g),
  });
  for (const ext of keys) {
    const existing = ctx.directory.groupsByExternalId.get(ext);
    const c = scoped.candidates.get(ext);
    if (!c) {
      const removed =
        existing !== undefined && removeGroup(ctx, ext, existing, scoped.outOfScope.get(ext), settled);
      if (existing && !removed) settled.refs.set(ext, ref(ext, existing.id, existing));
      continue;
    }
    if (existing) settled.refs.set(ext, ref(ext, existing.id, existing));
    if (c.blocked) continue;
    const wanted = { name: c.label, kind: c.kind, email: c.email, aliases: c.aliases };
    const target = c.target as Group | undefined;
    if (!target) {
      if (!policy.how.addGroups) {
        count(report, 'group', ext, 'switchedOff.groupsToAdd');
        continue;
      }
      settled.refs.set(ext, ref(ext, null, wanted));
    } else if (policy.how.updateGroups && !target.exempt) {
      // Renamed or readdressed by this plan: members lists show it as it will be.
      settled.refs.set(ext, ref(ext, target.id, wanted));
    }
    settled.planned.push({ c, wanted });
  }
  return settled;
}

/**
 * A synced group with no candidate: removed, when removals are allowed and switched on and the
 * group is not exempt. A kind that is not synced is left alone entirely, removals included.
 * Returns true when a removal is planned.
 */
function removeGroup(
  ctx: PlanContext,
  ext: string,
  g: Group,
  out: OutOfScope | undefined,
  settled: GroupSettlement,
): boolean {
  const { policy, report } = ctx;
  if (g.source !== 'entra' || !policy.what[g.kind]) return false;
  const message = out?.message ?? `${g.name} no longer exists in Entra.`;
  if (!policy.how.removeGroups) {
    count(report, 'group', ext, 'switchedOff.groupsToRemove');
    return false;
  }
  if (g.exempt) {
    report.skipped.push(
      skippedEntry(
        'exempt',
        `${g.name} is exempt from sync: it is not removed (${message})`,
        'group',
        ext,
        g.email,
        g.name,
      ),
    );
    return false;
  }
  settled.toRemove.push({
    kind: 'remove_group',
    id: changeId('remove_group', ext, g.id),
    externalId: ext,
    address: g.email,
    name: g.name,
    reason: out?.reason ?? 'deleted',
    message,
    groupId: g.id,
  });
  return true;
}

/** A planned group: added with its members when new, else updated when fields or members differ. */
function compareGroup(
  ctx: PlanContext,
  { c, wanted }: PlannedGroup,
  refs: MemberRefs,
  result: GroupComparison,
  focused: FocusedObjects | undefined,
): void {
  const target = c.target as Group | undefined;
  const total = target ? ctx.directory.memberTotals.get(target.id) : undefined;
  if (target && total !== undefined) {
    // Read in part (focused planning): only its members among the focused objects can differ.
    if (!focused) throw new AppError('internal', `The group ${target.id} was read in part, outside a focus.`);
    const partial = partialMembershipChange(target, c.src, refs, focused, total, ctx.directory);
    compareFields(ctx, { c, wanted }, target, partial.change, partial.membersLeftOut, result);
    return;
  }
  if (!target && focused?.readInPart?.has(c.externalId)) throw new WholeGroupNeeded(c.externalId);
  const { members, membersLeftOut } = plannedMembers(c.src, refs);
  if (!target) {
    const group = {
      ...wanted,
      source: 'entra' as const,
      externalId: c.externalId,
      members: sortMembers(members),
    };
    result.toAdd.push({
      kind: 'add_group',
      id: changeId('add_group', c.externalId, group),
      externalId: c.externalId,
      address: c.email,
      name: c.label,
      group,
      membersLeftOut,
    });
    return;
  }
  compareFields(
    ctx,
    { c, wanted },
    target,
    membershipChange(target, members, ctx.directory),
    membersLeftOut,
    result,
  );
}

/** A directory group against what Entra wants: updated when its fields or its members differ. */
function compareFields(
  ctx: PlanContext,
  { c, wanted }: PlannedGroup,
  target: Group,
  membership: { added: PlannedMember[]; removed: PlannedMember[] } | null,
  membersLeftOut: number,
  result: GroupComparison,
): void {
  const { policy, report } = ctx;
  const before: GroupFieldChanges = {};
  const after: GroupFieldChanges = {};
  diffFields(before, after, target, wanted, ['name', 'kind', 'email'] as const);
  diffAliases(before, after, target.aliases, wanted.aliases);
  if (target.source !== 'entra') {
    // Only reachable for a corrupt row (external id on a hand-made group): say it is taken over.
    (before as Record<string, unknown>).source = target.source;
    (after as Record<string, unknown>).source = 'entra';
  }
  const fields = [...Object.keys(after), ...(membership ? ['members'] : [])];
  if (fields.length === 0) {
    count(report, 'group', c.externalId, 'unchanged');
    return;
  }
  if (!policy.how.updateGroups) {
    count(report, 'group', c.externalId, 'switchedOff.groupsToUpdate');
    return;
  }
  if (target.exempt) {
    report.skipped.push(
      skippedEntry(
        'exempt',
        `${target.name} is exempt from sync: it would have been updated (${fields.join(', ')}).`,
        'group',
        c.externalId,
        target.email,
        target.name,
      ),
    );
    return;
  }
  result.toUpdate.push({
    kind: 'update_group',
    id: changeId('update_group', c.externalId, [target.id, before, after, membership]),
    externalId: c.externalId,
    address: c.email,
    name: c.label,
    groupId: target.id,
    before,
    after,
    membersAdded: membership?.added ?? [],
    membersRemoved: membership?.removed ?? [],
    membersLeftOut,
  });
}
