// A small client-side router (the app has a handful of pages; no dependency needed).
import { createContext, useCallback, useContext, useEffect, useState, type MouseEvent, type ReactNode } from 'react';

export type RouteName = 'home' | 'signin' | 'register' | 'password' | 'notfound';

/** Path -> page. Unknown paths are the Not found page. */
export function routeOf(pathname: string): RouteName {
  const p = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  switch (p) {
    case '/':
      return 'home';
    case '/signin':
      return 'signin';
    case '/register':
      return 'register';
    case '/password':
      return 'password';
    default:
      return 'notfound';
  }
}

interface Nav {
  path: string;
  /** A one-off message carried to the next page ("You are signed out."). */
  flash: string | undefined;
  navigate: (to: string, opts?: { replace?: boolean; flash?: string }) => void;
}

const NavContext = createContext<Nav | null>(null);

export function useNav(): Nav {
  const nav = useContext(NavContext);
  if (!nav) throw new Error('useNav outside <Router>');
  return nav;
}

export function Router({ children }: { children: ReactNode }) {
  const [path, setPath] = useState(() => window.location.pathname);
  const [flash, setFlash] = useState<string | undefined>(undefined);

  useEffect(() => {
    const onPop = () => {
      setFlash(undefined);
      setPath(window.location.pathname);
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  const navigate = useCallback((to: string, opts: { replace?: boolean; flash?: string } = {}) => {
    if (opts.replace) window.history.replaceState(null, '', to);
    else window.history.pushState(null, '', to);
    setFlash(opts.flash);
    setPath(window.location.pathname);
  }, []);

  return <NavContext.Provider value={{ path, flash, navigate }}>{children}</NavContext.Provider>;
}

/** An `<a>` that navigates inside the app (modified clicks open new tabs as usual). */
export function Link({ to, children, className }: { to: string; children: ReactNode; className?: string }) {
  const { navigate, path } = useNav();
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={onClick} className={className} aria-current={path === to ? 'page' : undefined}>
      {children}
    </a>
  );
}
