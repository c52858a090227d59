// A small client-side router (the app has a handful of pages; no dependency needed).
import { createContext, useCallback, useContext, useEffect, useState, type MouseEvent, type ReactNode } from 'react';
import { dropPrefetched } from './api/prefetch';

export * from './routes';

interface Nav {
  path: string;
  /** The query string of the current address (with `?`, or empty). */
  search: string;
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
  const [loc, setLoc] = useState(() => ({ path: window.location.pathname, search: window.location.search }));
  const [flash, setFlash] = useState<string | undefined>(undefined);

  useEffect(() => {
    const onPop = () => {
      dropPrefetched();
      setFlash(undefined);
      setLoc({ path: window.location.pathname, search: window.location.search });
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  const navigate = useCallback((to: string, opts: { replace?: boolean; flash?: string } = {}) => {
    // The boot script's answers were for the first page only.
    dropPrefetched();
    if (opts.replace) window.history.replaceState(null, '', to);
    else window.history.pushState(null, '', to);
    setFlash(opts.flash);
    setLoc({ path: window.location.pathname, search: window.location.search });
  }, []);

  return (
    <NavContext.Provider value={{ path: loc.path, search: loc.search, flash, navigate }}>{children}</NavContext.Provider>
  );
}

/** An `<a>` that navigates inside the app (modified clicks open new tabs as usual). */
export function Link({
  to,
  children,
  className,
  current,
}: {
  to: string;
  children: ReactNode;
  className?: string;
  /** Marks the link as the current page (defaults to an exact path match). */
  current?: boolean;
}) {
  const { navigate, path } = useNav();
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  const isCurrent = current ?? path === to;
  return (
    <a href={to} onClick={onClick} className={className} aria-current={isCurrent ? 'page' : undefined}>
      {children}
    </a>
  );
}
