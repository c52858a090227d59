import { Suspense, useEffect, useState } from 'react';
import { logout, type Me } from './api/client';
import { humanError } from './api/errors';
import { Link, isAdminRoute, matchRoute, useNav } from './router';
import { pages } from './pages/lazy';
import { rememberAccount, useSession } from './session';
import { Alert, Loading, NotAllowed, Page } from './ui';

/** The main navigation a person sees: only what their roles can use (the server checks anyway). */
export function navItems(me: Me): Array<{ to: string; label: string }> {
  const items = [{ to: '/', label: 'Home' }];
  if (me.tenant) {
    items.push({ to: '/classes', label: 'Classes' }, { to: '/schools', label: 'Schools' }, { to: '/about', label: 'About me' });
  }
  items.push({ to: '/account', label: 'Account' });
  if (me.roles.includes('admin')) items.push({ to: '/admin', label: 'Admin' });
  if (me.user.has_local_password) items.push({ to: '/password', label: 'Password' });
  return items;
}

export function App() {
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Header />
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<Loading />}>
          <Content />
        </Suspense>
      </main>
    </>
  );
}

function Header() {
  const { state, setMe } = useSession();
  const { navigate, path } = useNav();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string>();
  const me = state.status === 'signed-in' ? state.me : null;

  const signOut = async () => {
    if (!me) return;
    setBusy(true);
    setFailure(undefined);
    try {
      await logout();
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
              navItems(me).map((item) => (
                <li key={item.to}>
                  <Link to={item.to} current={item.to === '/' ? path === '/' : path.startsWith(item.to)}>
                    {item.label}
                  </Link>
                </li>
              ))
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
  const { path, search } = useNav();
  const route = matchRoute(path);

  if (route.name === 'notfound') return <pages.NotFound />;
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
  if (route.name === 'signin') {
    if (!me) return <pages.SignIn />;
    // A refused link comes back as /signin?error=<code> while signed in: explain it on Account.
    const error = new URLSearchParams(search).get('error');
    return <Redirect to={error && /^[a-z_]{1,64}$/.test(error) ? `/account?error=${error}` : '/'} />;
  }
  if (route.name === 'register') return me ? <Redirect to="/" /> : <pages.Register />;
  // Account mail links (issue 17.5) work signed in or not.
  if (route.name === 'forgot-password') return <pages.ForgotPassword />;
  if (route.name === 'reset-password') return <pages.ResetPassword />;
  if (route.name === 'verify-email') return <pages.VerifyEmail />;
  if (!me) return <Redirect to="/signin" />;
  // Route guard: the admin console is for tenant admins (the server answers 403 anyway).
  if (isAdminRoute(route) && !me.roles.includes('admin')) {
    return (
      <NotAllowed what="The admin pages are for your school's IT administrators. Your account does not have that role." />
    );
  }
  switch (route.name) {
    case 'home':
      return <pages.Home me={me} />;
    case 'password':
      return <pages.ChangePassword me={me} />;
    case 'account':
      return <pages.Account me={me} />;
    case 'about':
      return <pages.About me={me} />;
    case 'schools':
      return <pages.Schools me={me} />;
    case 'school-people':
      return <pages.SchoolPeople me={me} id={route.id} />;
    case 'classes':
      return <pages.Classes me={me} />;
    case 'class':
      return <pages.ClassPage me={me} id={route.id} tab={route.tab} />;
    case 'assignment':
      return <pages.AssignmentPage me={me} id={route.id} aid={route.aid} />;
    case 'admin':
      return <pages.Admin me={me} />;
    case 'admin-users':
      return <pages.AdminUsers />;
    case 'admin-user':
      return <pages.AdminUserPage id={route.id} />;
    case 'admin-groups':
      return <pages.AdminGroups />;
    case 'admin-group':
      return <pages.AdminGroupPage id={route.id} />;
    case 'admin-licenses':
      return <pages.AdminLicenses />;
    case 'admin-local-accounts':
      return <pages.AdminLocalAccounts me={me} />;
    case 'admin-audit':
      return <pages.AdminAudit />;
    case 'admin-directory':
      return <pages.AdminDirectory />;
  }
}
