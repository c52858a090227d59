import { useEffect, useState } from 'react';
import { api } from './api/client';
import { humanError } from './api/errors';
import { ChangePassword } from './pages/ChangePassword';
import { Home } from './pages/Home';
import { NotFound } from './pages/NotFound';
import { Register } from './pages/Register';
import { SignIn } from './pages/SignIn';
import { Link, routeOf, useNav } from './router';
import { rememberAccount, useSession } from './session';
import { Alert, Loading, Page } from './ui';

export function App() {
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Header />
      <main id="main" tabIndex={-1}>
        <Content />
      </main>
    </>
  );
}

function Header() {
  const { state, setMe } = useSession();
  const { navigate } = useNav();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string>();
  const me = state.status === 'signed-in' ? state.me : null;

  const signOut = async () => {
    if (!me) return;
    setBusy(true);
    setFailure(undefined);
    try {
      await api.logout();
      rememberAccount(me);
      setMe(null);
      navigate('/signin', { flash: 'You are signed out.' });
    } catch (err) {
      setFailure(humanError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <header className="site-header">
      <div className="bar">
        <Link to="/" className="brand">
          EduGraph
        </Link>
        <nav aria-label="Main">
          <ul>
            {me ? (
              <>
                <li>
                  <Link to="/">Home</Link>
                </li>
                {me.user.has_local_password && (
                  <li>
                    <Link to="/password">Password</Link>
                  </li>
                )}
              </>
            ) : (
              <>
                <li>
                  <Link to="/signin">Sign in</Link>
                </li>
                <li>
                  <Link to="/register">Register</Link>
                </li>
              </>
            )}
          </ul>
        </nav>
        {me && (
          <div className="who">
            <span className="who-name" title={me.user.email ?? undefined}>
              {me.user.display_name}
            </span>
            <button type="button" className="button button-small button-secondary" onClick={signOut} disabled={busy}>
              {busy ? 'Signing out…' : 'Sign out'}
            </button>
          </div>
        )}
      </div>
      {failure && (
        <div className="bar">
          <Alert kind="error">{failure}</Alert>
        </div>
      )}
    </header>
  );
}

function Redirect({ to }: { to: string }) {
  const { navigate } = useNav();
  useEffect(() => navigate(to, { replace: true }), [navigate, to]);
  return <Loading />;
}

function Content() {
  const { state, reload } = useSession();
  const { path } = useNav();
  const route = routeOf(path);

  if (route === 'notfound') return <NotFound />;
  if (state.status === 'loading') return <Loading label="Loading EduGraph…" />;
  if (state.status === 'error') {
    return (
      <Page title="EduGraph could not start" narrow>
        <Alert kind="error">{humanError(state.error)}</Alert>
        <button type="button" className="button" onClick={reload}>
          Try again
        </button>
      </Page>
    );
  }
  const me = state.status === 'signed-in' ? state.me : null;
  switch (route) {
    case 'signin':
      return me ? <Redirect to="/" /> : <SignIn />;
    case 'register':
      return me ? <Redirect to="/" /> : <Register />;
    case 'home':
      return me ? <Home me={me} /> : <Redirect to="/signin" />;
    case 'password':
      return me ? <ChangePassword me={me} /> : <Redirect to="/signin" />;
  }
}
