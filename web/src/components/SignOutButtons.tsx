import { Button } from '@mantine/core';
import { useState } from 'react';
import { useSession } from '../session';
import { toast } from '../toast';

/** *Sign out* (this browser) and *Sign out everywhere* (every session of the account). */
export function SignOutButtons({ size }: { size?: 'xs' | 'sm' }) {
  const { signOut, signOutEverywhere } = useSession();
  const [pending, setPending] = useState(false);
  const everywhere = async () => {
    setPending(true);
    try {
      await signOutEverywhere();
    } catch (error) {
      toast({
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
