import { Button } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useState } from 'react';
import { useSession } from '../session';

/** *Sign out* (this browser) and *Sign out everywhere* (every session of the account). */
export function SignOutButtons({ size }: { size?: 'xs' | 'sm' }) {
  const { signOut, signOutEverywhere } = useSession();
  const [pending, setPending] = useState(false);
  const everywhere = async () => {
    setPending(true);
    try {
      await signOutEverywhere();
    } catch (error) {
      notifications.show({
        color: 'red',
        message: `Could not sign out everywhere: ${error instanceof Error ? error.message : String(error)}`,
      });
    } finally {
      setPending(false);
    }
  };
  return (
    <>
      <Button variant="default" size={size} onClick={() => void signOut()}>
        Sign out
      </Button>
      <Button variant="subtle" size={size} loading={pending} onClick={() => void everywhere()}>
        Sign out everywhere
      </Button>
    </>
  );
}
