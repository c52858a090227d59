// Who is signed in: the `['me']` query, loaded once from /api/me and updated by sign-in,
// register, password change and sign-out responses. When the person changes (sign-out, another
// account) every other query is dropped, so nothing loaded for one person shows to the next.
import { queryOptions, useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, type ReactNode } from 'react';
import { api, ok, type Me } from './api/client';
import { ApiError } from './api/http';
import { dropPrefetched } from './api/prefetch';
import { keys } from './api/queries';

export type SessionState =
  | { status: 'loading' }
  | { status: 'error'; error: unknown }
  | { status: 'anonymous' }
  | { status: 'signed-in'; me: Me };

interface Session {
  state: SessionState;
  setMe: (me: Me | null) => void;
  reload: () => void;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside <SessionProvider>');
  return s;
}

/** Remembered after sign-out for "Sign in again as <name>" (name and email only; forgotten on request). */
export interface LastAccount {
  name: string;
  email: string;
}

const LAST_KEY = 'edugraph.lastAccount';

const REMEMBER_KEY = 'edugraph.rememberMe';
const AFTER_UNLINK_KEY = 'edugraph.afterUnlink';

/** Whether "remember me on this device" is ticked (off unless the person ticked it). */
export function rememberChoice(): boolean {
  try {
    return localStorage.getItem(REMEMBER_KEY) === '1';
  } catch {
    return false;
  }
}

/** Keeps the choice; turning it off forgets the remembered account at once (issue 16). */
export function setRememberChoice(on: boolean): void {
  try {
    if (on) localStorage.setItem(REMEMBER_KEY, '1');
    else {
      localStorage.removeItem(REMEMBER_KEY);
      localStorage.removeItem(LAST_KEY);
    }
  } catch {
    /* storage may be off */
  }
}

/** After an unlink: the sign-in page offers the EduGraph password first, with this email. */
export function setAfterUnlink(email: string | null | undefined): void {
  try {
    if (email) sessionStorage.setItem(AFTER_UNLINK_KEY, email);
  } catch {
    /* ignore */
  }
}

/** The email saved by [`setAfterUnlink`], once. */
export function takeAfterUnlink(): string | null {
  try {
    const v = sessionStorage.getItem(AFTER_UNLINK_KEY);
    sessionStorage.removeItem(AFTER_UNLINK_KEY);
    return v;
  } catch {
    return null;
  }
}

/** Remembers who signed out, only when they ticked "remember me on this device" (privacy for
 * shared computers: otherwise the next person never sees their name or email). */
export function rememberAccount(me: Me): void {
  if (!rememberChoice()) {
    forgetAccount();
    return;
  }
  if (!me.user.email) return;
  try {
    localStorage.setItem(LAST_KEY, JSON.stringify({ name: me.user.display_name, email: me.user.email }));
  } catch {
    /* storage may be off; the feature is optional */
  }
}

export function lastAccount(): LastAccount | null {
  try {
    const v = JSON.parse(localStorage.getItem(LAST_KEY) ?? 'null') as unknown;
    if (v && typeof v === 'object' && 'name' in v && 'email' in v) {
      const { name, email } = v as { name: unknown; email: unknown };
      if (typeof name === 'string' && typeof email === 'string') return { name, email };
    }
  } catch {
    /* ignore */
  }
  return null;
}

export function forgetAccount(): void {
  try {
    localStorage.removeItem(LAST_KEY);
  } catch {
    /* ignore */
  }
}

/** The signed-in person, or null when nobody is (`unauthenticated` is an answer, not a failure). */
async function loadMe(): Promise<Me | null> {
  try {
    return await ok(api.GET('/api/me'));
  } catch (error) {
    if (error instanceof ApiError && error.code === 'unauthenticated') return null;
    throw error;
  }
}

/** Who is signed in: read once, then changed by `setMe` (sign-in, sign-out, account changes). */
export const meQuery = () => queryOptions({ queryKey: keys.me, queryFn: loadMe, staleTime: Infinity, gcTime: Infinity });

export function SessionProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const q = useQuery(meQuery());
  const state: SessionState =
    q.data === null
      ? { status: 'anonymous' }
      : q.data
        ? { status: 'signed-in', me: q.data }
        : q.isError && !q.isFetching
          ? { status: 'error', error: q.error }
          : { status: 'loading' };

  const setMe = useCallback(
    (me: Me | null) => {
      dropPrefetched();
      const before = client.getQueryData<Me | null>(keys.me);
      if (!me || before?.user.id !== me.user.id) {
        client.removeQueries({ predicate: (query) => query.queryKey[0] !== keys.me[0] || query.queryKey.length > 1 });
      }
      client.setQueryData(keys.me, me);
    },
    [client],
  );
  const reload = useCallback(() => void client.resetQueries({ queryKey: keys.me, exact: true }), [client]);

  return <SessionContext.Provider value={{ state, setMe, reload }}>{children}</SessionContext.Provider>;
}
