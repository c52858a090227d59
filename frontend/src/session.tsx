// Who is signed in, loaded once from /api/me and updated by sign-in, register, password
// change and sign-out responses.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { api, type Me } from './api/client';
import { ApiError } from './api/http';

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

export function rememberAccount(me: Me): void {
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

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    api
      .me()
      .then((me) => live && setState({ status: 'signed-in', me }))
      .catch((error: unknown) => {
        if (!live) return;
        if (error instanceof ApiError && error.code === 'unauthenticated') setState({ status: 'anonymous' });
        else setState({ status: 'error', error });
      });
    return () => {
      live = false;
    };
  }, [attempt]);

  const setMe = useCallback((me: Me | null) => {
    setState(me ? { status: 'signed-in', me } : { status: 'anonymous' });
  }, []);
  const reload = useCallback(() => {
    setState({ status: 'loading' });
    setAttempt((n) => n + 1);
  }, []);

  return <SessionContext.Provider value={{ state, setMe, reload }}>{children}</SessionContext.Provider>;
}
