// One user of the directory: their properties (edit), whether they can sign in
// (enable/disable), and their licences (assign/remove, with "none left" explained).
import { type FormEvent, useLayoutEffect, useRef, useState } from 'react';
import { api, ok } from '../../api/client';
import { byId, licensesQuery, userDirectoryQuery, userQuery } from '../../api/queries';
import { ApiError } from '../../api/http';
import {
  EDITABLE_USER_FIELDS,
  availability,
  draftOf,
  licenceName,
  userChanges,
  userDraftErrors,
  type AdminLicense,
  type AdminUser,
  type EditableUserField,
  type UserDraft,
} from '../../lib/admin';
import { formatWhen } from '../../lib/time';
import { Link, adminUserPath } from '../../router';
import { ActionError, Alert, ConfirmButton, ErrorState, Field, Loading, focusFirstInvalid, useLoad } from '../../ui';
import { AdminPage } from './common';
import { EnabledBadge } from './Users';

const LABELS: Record<EditableUserField, string> = {
  display_name: 'Display name',
  given_name: 'First name',
  surname: 'Last name',
  job_title: 'Job title',
  department: 'Department',
  office_location: 'Office',
  mobile_phone: 'Mobile phone',
  usage_location: 'Usage location',
};

export function AdminUserPage({ id }: { id: string }) {
  const user = useLoad(userQuery(id));
  const title = user.status === 'ready' ? (user.data.display_name ?? 'User') : 'User';
  return (
    <AdminPage title={title}>
      <p>
        <Link to="/admin/users">← All users</Link>
      </p>
      {user.status === 'loading' && <Loading label="Loading the user…" />}
      {user.status === 'error' &&
        (user.error instanceof ApiError && user.error.code === 'not_found' ? (
          <Alert kind="error">
            There is no such user in your school’s directory. <Link to="/admin/users">Find them by name</Link>.
          </Alert>
        ) : (
          <ErrorState error={user.error} retry={user.reload} />
        ))}
      {user.status === 'ready' && (
        <>
          <SignInCard user={user.data} onChange={(u) => user.setData(() => u)} />
          <DirectoryPlace id={user.data.id} />
          <PropertiesCard user={user.data} onSaved={(u) => user.setData(() => u)} />
          <LicencesCard user={user.data} onChange={(ids) => user.setData((u) => ({ ...u, assigned_licenses: ids }))} />
        </>
      )}
    </AdminPage>
  );
}

function SignInCard({ user, onChange }: { user: AdminUser; onChange: (u: AdminUser) => void }) {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ kind: 'success' | 'error'; text?: string; error?: unknown }>();
  const name = user.display_name ?? user.user_principal_name ?? 'This user';
  const set = async (enabled: boolean) => {
    setBusy(true);
    setResult(undefined);
    try {
      await api.POST(enabled ? '/api/admin/users/{id}/enable' : '/api/admin/users/{id}/disable', byId(user.id));
      onChange({ ...user, account_enabled: enabled });
      setResult({ kind: 'success', text: enabled ? `${name} can sign in again.` : `${name} is disabled: they can no longer sign in.` });
    } catch (err) {
      setResult({ kind: 'error', error: err });
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card" aria-labelledby="signin-title">
      <h2 id="signin-title">Sign-in</h2>
      <dl className="facts">
        <dt>Sign-in name</dt>
        <dd>{user.user_principal_name ?? '—'}</dd>
        <dt>Mail</dt>
        <dd>{user.mail ?? '—'}</dd>
        <dt>Account</dt>
        <dd>
          <EnabledBadge enabled={user.account_enabled} />
        </dd>
        <dt>Created</dt>
        <dd>{user.created_at ? formatWhen(user.created_at) : '—'}</dd>
        <dt>Object id</dt>
        <dd className="mono">{user.id}</dd>
      </dl>
      {result?.kind === 'success' && <Alert kind="success">{result.text}</Alert>}
      {result?.kind === 'error' && <ActionError error={result.error} />}
      <div className="actions">
        {user.account_enabled === false ? (
          <button type="button" className="button" onClick={() => set(true)} disabled={busy}>
            Enable sign-in
          </button>
        ) : (
          <ConfirmButton
            danger
            label="Disable sign-in"
            question={`Disable ${name}? They can no longer sign in to Microsoft 365 or EduGraph.`}
            confirmLabel="Yes, disable"
            onConfirm={() => set(false)}
            busy={busy}
          />
        )}
      </div>
    </section>
  );
}

function PropertiesCard({ user, onSaved }: { user: AdminUser; onSaved: (u: AdminUser) => void }) {
  const [draft, setDraft] = useState<UserDraft>(() => draftOf(user));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ kind: 'success' | 'error' | 'info'; text?: string; error?: unknown }>();
  const form = useRef<HTMLFormElement>(null);
  // Before paint: what is typed right after the page shows is never overwritten.
  useLayoutEffect(() => setDraft(draftOf(user)), [user]);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setResult(undefined);
    const errs = userDraftErrors(draft);
    setErrors(errs);
    if (Object.keys(errs).length) {
      requestAnimationFrame(() => focusFirstInvalid(form.current));
      return;
    }
    const changes = userChanges(user, draft);
    const names = Object.keys(changes) as EditableUserField[];
    if (!names.length) {
      setResult({ kind: 'info', text: 'Nothing changed.' });
      return;
    }
    setBusy(true);
    try {
      await api.PATCH('/api/admin/users/{id}', { ...byId(user.id), body: changes });
      const next: AdminUser = { ...user };
      for (const f of names) next[f] = changes[f] || null;
      onSaved(next);
      setResult({ kind: 'success', text: `Saved: ${names.map((f) => LABELS[f]).join(', ')}.` });
    } catch (err) {
      setResult({ kind: 'error', error: err });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="props-title">
      <h2 id="props-title">Properties</h2>
      <form ref={form} onSubmit={save} noValidate className="grid-choices user-props">
        {EDITABLE_USER_FIELDS.map((f) => (
          <Field
            key={f}
            label={LABELS[f]}
            value={draft[f]}
            onChange={(e) => setDraft({ ...draft, [f]: e.target.value })}
            error={errors[f]}
            maxLength={f === 'usage_location' ? 2 : f === 'display_name' ? 256 : 128}
            hint={f === 'usage_location' ? 'Two letters, like US' : undefined}
            type={f === 'mobile_phone' ? 'tel' : 'text'}
          />
        ))}
        <div className="actions">
          <button type="submit" className="button" disabled={busy}>
            {busy ? 'Saving…' : 'Save properties'}
          </button>
        </div>
      </form>
      {result?.kind === 'error' ? (
        <ActionError error={result.error} />
      ) : (
        result && <Alert kind={result.kind}>{result.text}</Alert>
      )}
    </section>
  );
}

function LicencesCard({ user, onChange }: { user: AdminUser; onChange: (ids: string[]) => void }) {
  const skus = useLoad(licensesQuery());
  const [busy, setBusy] = useState<string | null>(null);
  const [result, setResult] = useState<{ kind: 'success' | 'error'; text?: string; error?: unknown }>();
  const assigned = user.assigned_licenses ?? [];

  const change = async (l: AdminLicense, add: boolean) => {
    setBusy(l.sku_id);
    setResult(undefined);
    try {
      const r = await ok(
        api.POST('/api/admin/users/{id}/licenses', { ...byId(user.id), body: add ? { add: [l.sku_id] } : { remove: [l.sku_id] } }),
      );
      onChange(r.assigned_licenses);
      setResult({
        kind: 'success',
        text: `${licenceName(l)} ${add ? 'assigned to' : 'removed from'} ${user.display_name ?? 'the user'}.`,
      });
      skus.refresh();
    } catch (err) {
      setResult({ kind: 'error', error: err });
    } finally {
      setBusy(null);
    }
  };

  const known = skus.status === 'ready' ? skus.data.items : [];
  const others = assigned.filter((id) => !known.some((l) => l.sku_id === id));
  return (
    <section className="card" aria-labelledby="lic-title">
      <h2 id="lic-title">Licences</h2>
      {!user.usage_location && (
        <Alert kind="info">
          This person has no usage location yet: set it under Properties before assigning a licence.
        </Alert>
      )}
      {result?.kind === 'success' && <Alert kind="success">{result.text}</Alert>}
      {result?.kind === 'error' && <ActionError error={result.error} />}
      {skus.status === 'loading' && <Loading label="Loading licences…" />}
      {skus.status === 'error' && <ErrorState error={skus.error} retry={skus.reload} />}
      {skus.status === 'ready' && known.length === 0 && <p className="muted">Your school subscribes to no licences.</p>}
      {known.length > 0 && (
        <ul className="list">
          {known.map((l) => {
            const has = assigned.includes(l.sku_id);
            const a = availability(l);
            return (
              <li key={l.sku_id}>
                <div className="section-head">
                  <div>
                    <strong>{licenceName(l)}</strong>{' '}
                    {has ? <span className="badge badge-enabled">Assigned</span> : <span className="badge">Not assigned</span>}
                    <div className="muted small">{a.text}</div>
                  </div>
                  {has ? (
                    <ConfirmButton
                      small
                      danger
                      label="Remove"
                      ariaLabel={`Remove ${l.sku_part_number ?? licenceName(l)}`}
                      question={`Remove ${licenceName(l)} from ${user.display_name ?? 'this user'}?`}
                      confirmLabel="Yes, remove"
                      onConfirm={() => change(l, false)}
                      busy={busy === l.sku_id}
                    />
                  ) : (
                    <button
                      type="button"
                      className="button button-small"
                      onClick={() => change(l, true)}
                      disabled={busy === l.sku_id || !a.canAssign}
                      aria-label={`Assign ${l.sku_part_number ?? licenceName(l)}`}
                      aria-describedby={`sku-${l.sku_id}`}
                    >
                      {busy === l.sku_id ? 'Assigning…' : 'Assign'}
                    </button>
                  )}
                </div>
                <span id={`sku-${l.sku_id}`} className="visually-hidden">
                  {a.text}
                </span>
              </li>
            );
          })}
        </ul>
      )}
      {others.length > 0 && (
        <p className="muted">
          Also assigned (not a subscription of your school any more): <span className="mono">{others.join(', ')}</span>
        </p>
      )}
    </section>
  );
}

/** Manager and reports from directory sync (issue 16: supervisors are visible). */
export function DirectoryPlace({ id }: { id: string }) {
  const place = useLoad(userDirectoryQuery(id));
  if (place.status === 'loading') return <Loading label="Reading the directory…" />;
  if (place.status === 'error') return <ErrorState error={place.error} retry={place.reload} />;
  const d = place.data;
  return (
    <section className="card" aria-labelledby="directory-place-title">
      <h2 id="directory-place-title">Manager and team</h2>
      {!d.in_directory && d.reports.length === 0 ? (
        <p className="muted">
          Not in the synced directory group, so EduGraph has no manager on record. Directory sync is set up on the{' '}
          <Link to="/admin/directory">Directory sync</Link> page.
        </p>
      ) : (
        <dl className="facts">
          <dt>Manager</dt>
          <dd>
            {d.manager ? (
              <Link to={adminUserPath(d.manager.id)}>{d.manager.display_name ?? 'Unnamed person'}</Link>
            ) : (
              <span className="muted">None on record</span>
            )}
          </dd>
          <dt>Manages</dt>
          <dd>
            {d.reports.length ? (
              <ul className="inline-list">
                {d.reports.map((r) => (
                  <li key={r.id}>
                    <Link to={adminUserPath(r.id)}>{r.display_name ?? 'Unnamed person'}</Link>
                  </li>
                ))}
              </ul>
            ) : (
              <span className="muted">Nobody</span>
            )}
          </dd>
        </dl>
      )}
    </section>
  );
}
