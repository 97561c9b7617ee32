import { List, Text } from '@mantine/core';
import type { Category, Change, ChangeOutcome, MailboxKind, PlannedMember } from '../api/types';

export const CATEGORY_LABELS: Record<Category, string> = {
  usersToAdd: 'Users to add',
  usersToUpdate: 'Users to update',
  usersToRemove: 'Users to remove',
  groupsToAdd: 'Groups to add',
  groupsToUpdate: 'Groups to update',
  groupsToRemove: 'Groups to remove',
};

const FIELD_LABELS: Record<string, string> = {
  email: 'Address',
  aliases: 'Aliases',
  firstName: 'First name',
  lastName: 'Last name',
  displayName: 'Display name',
  status: 'Status',
  mailbox: 'Mailbox',
  source: 'Source',
  externalId: 'Entra object',
  name: 'Name',
  kind: 'Kind',
};

/** A field's value as a short text: lists joined, nothing as "(none)". */
function show(value: unknown): string {
  if (value === null || value === undefined || value === '') return '(none)';
  if (Array.isArray(value)) {
    if (!value.length) return '(none)';
    return value
      .map((v) => (typeof v === 'object' && v && 'label' in v ? String(v.label) : String(v)))
      .join(', ');
  }
  return String(value);
}

/** A field's value in words where the raw value says little (a mailbox of unknown purpose is null). */
function showField(field: string, value: unknown): string {
  if (field === 'mailbox') return value ? String(value) : 'unknown';
  return show(value);
}

/**
 * The mailbox purpose a user change carries: the new user's, or an update's new one when it
 * changes; undefined when the change does not say (a removal, an update leaving it as it was).
 */
export function changeMailbox(change: Change): MailboxKind | null | undefined {
  if (change.kind === 'add_user') return change.user.mailbox;
  if (change.kind === 'update_user' && 'mailbox' in change.after) return change.after.mailbox;
  return undefined;
}

/** At most `max` member labels, then how many more. */
function members(list: PlannedMember[], max = 5): string {
  const shown = list.slice(0, max).map((m) => m.label);
  return list.length > max ? `${shown.join(', ')} and ${list.length - max} more` : shown.join(', ');
}

/** The fields of a change ChangeDetail reads: a planned change, or a change's outcome in a run. */
interface Shown {
  kind: Change['kind'];
  reason?: string;
  message?: string;
  before?: object;
  after?: object;
  membersAdded?: PlannedMember[];
  membersRemoved?: PlannedMember[];
  user?: { aliases?: string[]; role?: string; status?: string };
  group?: { kind?: string; members?: PlannedMember[] };
}

/** What a change will do, in a few lines: before → after for updates, the reason for removals. */
export function ChangeDetail({ change: planned }: { change: Change | ChangeOutcome }) {
  const change: Shown = planned;
  if (change.kind === 'update_user' || change.kind === 'update_group') {
    const before = (change.before ?? {}) as Record<string, unknown>;
    const after = (change.after ?? {}) as Record<string, unknown>;
    const fields = Object.keys(after).filter((f) => f !== 'members');
    return (
      <List size="xs" spacing={0} listStyleType="none">
        {change.reason === 'linked' && <List.Item>Links the user you created by hand to Entra.</List.Item>}
        {fields.map((f) => (
          <List.Item key={f}>
            <b>{FIELD_LABELS[f] ?? f}:</b> {showField(f, before[f])} → {showField(f, after[f])}
          </List.Item>
        ))}
        {!!change.membersAdded?.length && (
          <List.Item>
            <b>Members added:</b> {members(change.membersAdded)}
          </List.Item>
        )}
        {!!change.membersRemoved?.length && (
          <List.Item>
            <b>Members removed:</b> {members(change.membersRemoved)}
          </List.Item>
        )}
      </List>
    );
  }
  if (change.kind === 'remove_user' || change.kind === 'remove_group') {
    return <Text size="xs">{change.message ?? 'Gone from Entra.'}</Text>;
  }
  if (change.kind === 'add_user') {
    const aliases = change.user?.aliases;
    const role = change.user?.role;
    return (
      <Text size="xs">
        {role === 'silent_user' ? 'Silent User' : role === 'end_user' ? 'End User' : ''}
        {aliases?.length ? ` · aliases: ${aliases.join(', ')}` : ''}
        {change.user?.status === 'inactive' ? ' · inactive (disabled in Entra)' : ''}
      </Text>
    );
  }
  const groupMembers = change.group?.members ?? [];
  return (
    <Text size="xs">
      {change.group?.kind === 'security' ? 'Security group' : 'Distribution group'}
      {groupMembers.length ? ` · ${groupMembers.length} members: ${members(groupMembers)}` : ' · no members'}
    </Text>
  );
}
