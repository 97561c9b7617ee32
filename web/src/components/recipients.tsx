import { Badge, List, Text, ThemeIcon } from '@mantine/core';
import type { MailboxFilter, MailboxKind, User } from '../api/types';

/** The short word of the Mailbox columns; a person's mailbox (or an unknown one) shows none. */
const MAILBOX_BADGES: Record<MailboxKind, string | null> = {
  user: null,
  linked: 'Linked',
  shared: 'Shared',
  room: 'Room',
  equipment: 'Equipment',
  others: 'Other',
};

/** What each mailbox purpose means, for the user page. */
const MAILBOX_MEANINGS: Record<MailboxKind, string> = {
  user: "A person's mailbox.",
  linked: "Linked mailbox: a person's mailbox whose account lives in another Active Directory forest.",
  shared: 'Shared mailbox: a functional account that several people read and nobody signs in to.',
  room: 'Room mailbox: a functional account for booking a meeting room.',
  equipment: 'Equipment mailbox: a functional account for booking equipment (a projector, a car).',
  others: "Another kind of mailbox (Exchange calls it 'others').",
};

/** Shared, room and equipment mailboxes: they receive mail while no person signs in to them. */
const FUNCTIONAL: readonly MailboxKind[] = ['shared', 'room', 'equipment'];

/** The Mailbox filter of the users list, in the order it offers them ('all' sends no filter). */
export const MAILBOX_FILTERS: Record<MailboxFilter | 'all', string> = {
  all: 'All',
  people: 'People (not functional accounts)',
  functional: 'Functional accounts (shared, room, equipment)',
  user: "People's mailboxes with sign-in blocked",
  shared: 'Shared mailboxes',
  room: 'Room mailboxes',
  equipment: 'Equipment mailboxes',
  linked: 'Linked mailboxes',
  others: 'Other mailboxes',
  unknown: 'Unknown purpose',
};

/** A short badge naming a mailbox that is not simply a person's; nothing otherwise. */
export function MailboxBadge({ mailbox }: { mailbox: MailboxKind | null | undefined }) {
  const word = mailbox ? MAILBOX_BADGES[mailbox] : null;
  if (!mailbox || !word) return null;
  return (
    // As wide as its word: a narrow table column would otherwise cut it to "SH…".
    <Badge variant="light" color={FUNCTIONAL.includes(mailbox) ? 'violet' : 'gray'} miw="max-content">
      {word}
    </Badge>
  );
}

/** The mailbox purpose in a sentence; unknown says why it may be. */
export function mailboxMeaning(mailbox: MailboxKind | null): string {
  if (mailbox) return MAILBOX_MEANINGS[mailbox];
  return 'Unknown: Exchange is asked what a mailbox is for only when its sign-in is blocked in Entra (and the app may read mailbox settings).';
}

/** Why a user is not billed. */
function notBilledBecause(user: User): string {
  if (user.functional) return 'shared, room and equipment mailboxes are not counted';
  return 'inactive users are not counted';
}

/** What the service does for a user, each fact in words with a ✓ or ✗ (never colour alone). */
export function RecipientFacts({ user }: { user: User }) {
  const facts: Array<{ yes: boolean; text: string }> = [
    { yes: user.deliverable, text: user.deliverable ? 'Receives mail' : 'Does not receive mail (inactive)' },
    {
      yes: user.canSignIn,
      text: user.canSignIn
        ? 'Can sign in to the console'
        : `Cannot sign in to the console — ${user.signInRefusal ?? 'the server refuses it.'}`,
    },
    {
      yes: user.receivesDigests,
      text: user.receivesDigests ? 'Gets quarantine digests' : 'Gets no quarantine digests',
    },
    {
      yes: user.billable,
      text: user.billable
        ? 'Billed: counts against the licensed seats'
        : `Not billed: ${notBilledBecause(user)}`,
    },
  ];
  return (
    <List size="sm" spacing={4} center aria-label="What the service does for this user">
      {facts.map((f) => (
        <List.Item
          key={f.text}
          icon={
            <ThemeIcon size={18} radius="xl" color={f.yes ? 'green' : 'gray'}>
              <span aria-hidden>{f.yes ? '✓' : '✗'}</span>
            </ThemeIcon>
          }
        >
          <Text size="sm" span>
            {f.text}
          </Text>
        </List.Item>
      ))}
    </List>
  );
}
