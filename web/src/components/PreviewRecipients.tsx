import { Alert, Anchor, Card, List, Stack, Text, Title } from '@mantine/core';
import { Link } from 'react-router';
import type {
  BlockedMailboxRule,
  BlockedSignIn,
  MailboxIssueCause,
  MailboxReads,
  Preview,
  Seats,
} from '../api/types';
import { useOrgRef } from './hooks';
import { seatsOver, seatsText } from './seats';

/** Why a mailbox purpose stayed unknown, after "N users: ". */
const ISSUE_WORDS: Record<MailboxIssueCause, string> = {
  permission_missing: 'MailboxSettings.Read is not granted',
  mailbox_access_denied: 'Exchange refused the app these mailboxes (an application access policy limits it)',
  no_exchange_mailbox: 'no Exchange Online mailbox (on-premises or unlicensed)',
  unrecognized_purpose: 'a purpose this version does not know',
  throttled: 'Microsoft kept throttling the reads; they are read again at the next sync',
  item_failed: 'the read failed',
  batch_failed: 'a batch request failed, and the rest was not read',
};

/** What a preview does to billing and to the mailboxes whose sign-in is blocked in Entra. */
export function PreviewRecipients({ plan }: { plan: Preview }) {
  return (
    <Card withBorder component="section" aria-labelledby="recipients-title">
      <Stack gap="xs">
        <Title order={2} size="h4" id="recipients-title">
          Billing and blocked sign-ins
        </Title>
        <PlannedSeats seats={plan.seats} />
        <BlockedSignInSummary
          blocked={plan.blockedSignIn}
          rule={plan.policy.blockedMailboxes}
          mailboxes={plan.read.mailboxes}
        />
      </Stack>
    </Card>
  );
}

/** Billable users now → after the plan, and a warning in words when that passes the licence. */
function PlannedSeats({ seats }: { seats: Seats }) {
  const over = seatsOver(seats);
  return (
    <>
      <Text c={over ? 'orange.9' : undefined} fw={over ? 600 : undefined}>
        Billable users: {seatsText(seats)}
      </Text>
      {over > 0 && (
        <Alert color="orange" role="status" title="More billable users than licensed">
          After this sync {seats.after} users would be billed: {over} more than the {seats.licensed} seats the
          licence covers. Shared, room and equipment mailboxes are not counted. Untick users to add, or ask
          for more seats.
        </Alert>
      )}
    </>
  );
}

/** Users in scope with sign-in blocked, by what decided their status, and why purposes stayed unknown. */
function BlockedSignInSummary({
  blocked,
  rule,
  mailboxes,
}: {
  blocked: BlockedSignIn;
  rule: BlockedMailboxRule;
  mailboxes: MailboxReads;
}) {
  const org = useOrgRef();
  const parts = [
    blocked.functional > 0 &&
      (blocked.functional === 1
        ? '1 shared, room or equipment mailbox stays deliverable'
        : `${blocked.functional} shared, room or equipment mailboxes stay deliverable`),
    blocked.person > 0 &&
      (blocked.person === 1
        ? "1 person's mailbox becomes inactive"
        : `${blocked.person} people's mailboxes become inactive`),
    blocked.rule > 0 &&
      `${blocked.rule} of unknown purpose ${rule === 'deliver' ? 'kept receiving mail' : 'made inactive'} by your rule${mailboxes.denied ? ' — MailboxSettings.Read is not granted' : ''}`,
  ].filter((p): p is string => Boolean(p));
  if (!parts.length) return null;
  return (
    <>
      <Text>Sign-in blocked in Entra: {parts.join(' · ')}</Text>
      {mailboxes.denied ? (
        <Text size="sm" c="dimmed">
          Grant the app the Microsoft Graph application permission MailboxSettings.Read (with admin consent)
          so Exchange tells shared, room and equipment mailboxes apart; the rule is under{' '}
          <Anchor component={Link} to={`/orgs/${org}/settings/import-users/azure-ad`} size="sm">
            Import Users → Azure Active Directory
          </Anchor>
          .
        </Text>
      ) : (
        mailboxes.issues.length > 0 && (
          <List size="sm" aria-label="Why some mailbox purposes are unknown">
            {mailboxes.issues.map((issue) => (
              <List.Item key={issue.cause}>
                {issue.users} user{issue.users === 1 ? '' : 's'}: {ISSUE_WORDS[issue.cause]}
                <Text size="xs" c="dimmed">
                  {issue.detail}
                </Text>
              </List.Item>
            ))}
          </List>
        )
      )}
    </>
  );
}
