import { useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { ApiError, api, setCsrfToken, setSessionLostHandler } from './api/client';
import type { Session } from './api/types';

interface SessionState {
  /** null: signed out; undefined: still asking the server. */
  session: Session | null | undefined;
  /** Why the person was sent back to the sign-in page (expiry, revocation), shown there once. */
  notice: string | null;
  signIn(email: string, password: string): Promise<Session>;
  signOut(): Promise<void>;
  /** Ends every session of this account, on every device, this one included. */
  signOutEverywhere(): Promise<void>;
}

const SessionContext = createContext<SessionState | null>(null);

/** Holds who is signed in; a lost session (401, or its expiry time passing) signs the person out. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | null>(null);

  const adopt = useCallback(
    (next: Session | null, why: string | null = null) => {
      setCsrfToken(next?.csrfToken ?? null);
      setSession(next);
      setNotice(why);
      if (!next) queryClient.clear();
    },
    [queryClient],
  );

  useEffect(() => {
    api<Session>('GET', '/auth/session').then(
      (s) => adopt(s),
      () => adopt(null),
    );
  }, [adopt]);

  useEffect(() => {
    setSessionLostHandler(() => adopt(null, 'Your session has expired: sign in again.'));
    return () => setSessionLostHandler(null);
  }, [adopt]);

  // Expire on time even when the page sits idle, so nobody works on and loses their input later.
  useEffect(() => {
    if (!session) return;
    const left = new Date(session.expiresAt).getTime() - Date.now();
    const timer = setTimeout(
      () => adopt(null, 'Your session has expired: sign in again.'),
      Math.max(0, Math.min(left, 2 ** 31 - 1)),
    );
    return () => clearTimeout(timer);
  }, [session, adopt]);

  const value = useMemo<SessionState>(
    () => ({
      session,
      notice,
      async signIn(email, password) {
        const s = await api<Session>('POST', '/auth/login', { email, password });
        adopt(s);
        return s;
      },
      async signOut() {
        try {
          await api('POST', '/auth/logout');
        } catch (error) {
          // Already signed out on the server (expired): the local sign-out below is all that is left.
          if (!(error instanceof ApiError)) throw error;
        }
        adopt(null, 'You are signed out.');
      },
      async signOutEverywhere() {
        // Unlike sign-out, a failure here must show: the other devices may still be signed in.
        await api('POST', '/auth/logout-all');
        adopt(null, 'You are signed out everywhere.');
      },
    }),
    [session, notice, adopt],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

/** The session state of the console. */
export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error('useSession outside SessionProvider');
  return state;
}

/** Where a principal lands after signing in. */
export function homeOf(session: Session): string {
  const p = session.principal;
  if (p.type === 'operator') return '/orgs';
  if (p.type === 'user' && p.role === 'org_admin') return `/orgs/${p.orgId}/overview`;
  return '/me';
}
