import type { Me } from '../api/client';
import { Link, useNav } from '../router';
import { formatWhen } from '../lib/time';
import { Alert, Page } from '../ui';
import { TodoList } from './Grading';

const ROLE_NAMES: Record<string, string> = { admin: 'School IT admin', teacher: 'Teacher', student: 'Student' };
const CONSENT: Record<string, string> = {
  none: 'not yet approved by its administrator',
  consented: 'approved by its administrator',
  revoked: 'approval withdrawn by its administrator',
};

// Set by the server's redirects after a Microsoft round trip (`/?notice=<code>`).
const NOTICES: Record<string, string> = {
  microsoft_linked: 'Your Microsoft 365 account is now linked to this account.',
  tenant_consented: 'Thank you: EduGraph is now approved for your school. Teachers and students can sign in.',
};

export function Home({ me }: { me: Me }) {
  const { flash } = useNav();
  const { user, roles, tenant, link } = me;
  const notice = NOTICES[new URLSearchParams(window.location.search).get('notice') ?? ''];
  return (
    <Page title={`Hello, ${user.display_name}`}>
      {flash && <Alert kind="success">{flash}</Alert>}
      {notice && <Alert kind="success">{notice}</Alert>}
      {user.must_change_password && (
        <Alert kind="info">
          Your password must be changed before you continue. <Link to="/password">Change it now</Link>.
        </Alert>
      )}
      {tenant && link.microsoft && <TodoList />}
      {!tenant && !link.microsoft && (
        // A local-only account is told once, here, with one button.
        <section className="card draft-note" aria-labelledby="connect-school">
          <h2 id="connect-school">Connect your school account</h2>
          <p>
            Your EduGraph account works on its own, but classes, schools, classmates and assignments come from your
            school’s Microsoft 365. Connect your school account once and they appear here; you keep your EduGraph
            password.
          </p>
          <a className="button" href="/auth/microsoft/login?intent=link">
            Connect your school account
          </a>
        </section>
      )}
      <nav className="card" aria-labelledby="shortcuts">
        <h2 id="shortcuts">Where to go</h2>
        <ul className="shortcuts">
          {tenant && (
            <>
              <li>
                <Link to="/classes">Your classes</Link>
                <span className="muted"> — people, seating chart, assignments, documents</span>
              </li>
              <li>
                <Link to="/schools">Schools</Link>
                <span className="muted"> — yours first</span>
              </li>
              <li>
                <Link to="/about">About me</Link>
                <span className="muted"> — your profile and favourite colour</span>
              </li>
            </>
          )}

          {roles.includes('admin') && (
            <li>
              <Link to="/admin">Administration</Link>
              <span className="muted"> — approval, user access, linked accounts</span>
            </li>
          )}
          <li>
            <Link to="/account">Your account</Link>
            <span className="muted"> — how you sign in, linking</span>
          </li>
        </ul>
      </nav>
      <div className="card">
        <h2>About you</h2>
        <dl className="facts">
          <dt>Name</dt>
          <dd>
            {user.favorite_color && (
              // A validated #rrggbb value set through the CSSOM (allowed by the CSP, unlike style attributes).
              <span
                className="swatch swatch-inline"
                ref={(el) => el?.style.setProperty('background-color', user.favorite_color ?? '')}
                title={`Favourite colour ${user.favorite_color}`}
                aria-hidden="true"
              />
            )}
            {user.display_name}
          </dd>
          <dt>Email</dt>
          <dd>{user.email ?? <span className="muted">No email: you sign in with Microsoft only.</span>}</dd>
          <dt>Roles</dt>
          <dd>
            {roles.length ? (
              <ul className="tags">
                {roles.map((r) => (
                  <li key={r}>{ROLE_NAMES[r] ?? r}</li>
                ))}
              </ul>
            ) : (
              <span className="muted">
                No roles yet. Roles come from your school’s Microsoft 365 account once it is linked.
              </span>
            )}
          </dd>
          <dt>School</dt>
          <dd>
            {tenant ? (
              <>
                {tenant.display_name}{' '}
                <span className="muted">({CONSENT[tenant.consent_state] ?? tenant.consent_state})</span>
              </>
            ) : (
              <span className="muted">Not part of a school yet.</span>
            )}
          </dd>
          <dt>Favourite colour</dt>
          <dd>{user.favorite_color ?? <span className="muted">None chosen.</span>}</dd>
        </dl>
      </div>
      <div className="card">
        <h2>How you sign in</h2>
        <dl className="facts">
          <dt>This session</dt>
          <dd>{me.auth_method === 'microsoft' ? 'Microsoft account' : 'EduGraph password'}</dd>
          <dt>EduGraph password</dt>
          <dd>{link.local && user.has_local_password ? 'Set' : <span className="muted">Not set</span>}</dd>
          <dt>Microsoft account</dt>
          <dd>
            {link.microsoft ? (
              <>Linked: {link.microsoft.display_name ?? link.microsoft.upn ?? 'Microsoft account'}
                {link.microsoft.upn && link.microsoft.display_name && <span className="muted"> ({link.microsoft.upn})</span>}
              </>
            ) : (
              <span className="muted">Not linked.</span>
            )}
          </dd>
          <dt>Session ends</dt>
          <dd>at the latest {formatWhen(me.session_expires_at)}</dd>
        </dl>
        {user.has_local_password && (
          <p>
            <Link to="/password">Change your password</Link>
          </p>
        )}
      </div>
    </Page>
  );
}
