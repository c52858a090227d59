// Users of the school's Microsoft 365 directory: search by name, filter by department, job
// title and whether they can sign in, "See more"; enable/disable; create a user, whose
// temporary password is shown once (EduGraph does not keep it).
import { useEffect, useReducer, useRef, useState, type FormEvent } from 'react';
import { api, type Schemas } from '../../api/client';
import {
  NO_USER_FILTERS,
  userDraftErrors,
  userFiltersFrom,
  userFiltersPath,
  usersKey,
  usersQuery,
  usersShown,
  type AdminUser,
  type UserFilters,
} from '../../lib/admin';
import { canLoadMore, initialPaged, pagedReducer } from '../../lib/paging';
import { Link, adminUserPath, useNav } from '../../router';
import { ActionError, Alert, ConfirmButton, Dialog, Empty, ErrorState, Field, Loading, focusFirstInvalid } from '../../ui';
import { AdminPage } from './common';

export function AdminUsers() {
  const { search, navigate } = useNav();
  const filters = userFiltersFrom(search);
  const key = usersKey(filters);
  const [draft, setDraft] = useState<UserFilters>(filters);
  useEffect(() => setDraft(userFiltersFrom(search)), [search]);
  const [state, dispatch] = useReducer(pagedReducer<AdminUser>, initialPaged<AdminUser>());
  const [total, setTotal] = useState<number | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<{ kind: 'success' | 'error'; text?: string; error?: unknown }>();
  const [busy, setBusy] = useState<string | null>(null);

  useEffect(() => {
    dispatch({ type: 'start', key });
    setTotal(null);
    api.adminUsers(usersQuery(filters)).then(
      (page) => {
        setTotal(page.total ?? null);
        dispatch({ type: 'page', key, items: page.items, next: page.next_cursor, append: false });
      },
      (error: unknown) => dispatch({ type: 'failed', key, error }),
    );
    // The key carries the filters.
  }, [key, attempt]);

  const more = () => {
    if (!canLoadMore(state)) return;
    const cursor = state.next;
    dispatch({ type: 'more' });
    api.adminUsers(usersQuery(filters, cursor)).then(
      (page) => dispatch({ type: 'page', key, items: page.items, next: page.next_cursor, append: true }),
      (error: unknown) => dispatch({ type: 'failed', key, error }),
    );
  };

  const apply = (e: FormEvent) => {
    e.preventDefault();
    navigate(userFiltersPath(draft));
  };

  const setEnabled = async (u: AdminUser, enabled: boolean) => {
    setBusy(u.id);
    setNotice(undefined);
    try {
      await api.setAdminUserEnabled(u.id, enabled);
      const name = u.display_name ?? u.user_principal_name ?? 'The user';
      setNotice({
        kind: 'success',
        text: enabled ? `${name} can sign in again.` : `${name} is disabled: they can no longer sign in.`,
      });
      // Keep the row where it is; a filtered list is refreshed by the next search.
      const list = state.items.map((x) => (x.id === u.id ? { ...x, account_enabled: enabled } : x));
      dispatch({ type: 'page', key, items: list, next: state.next, append: false });
    } catch (err) {
      setNotice({ kind: 'error', error: err });
    } finally {
      setBusy(null);
    }
  };

  const filtered = Boolean(filters.search || filters.department || filters.jobTitle || filters.enabled);
  return (
    <AdminPage title="Users">
      <div className="section-head">
        <p className="muted">The people of your school’s Microsoft 365 directory.</p>
        <button type="button" className="button" onClick={() => setCreating(true)}>
          New user
        </button>
      </div>
      <form className="filters card" role="search" aria-label="Find users" onSubmit={apply}>
        <div className="field">
          <label htmlFor="user-search">Name starts with</label>
          <input
            id="user-search"
            type="search"
            value={draft.search}
            onChange={(e) => setDraft({ ...draft, search: e.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor="user-department">Department</label>
          <input
            id="user-department"
            type="text"
            value={draft.department}
            onChange={(e) => setDraft({ ...draft, department: e.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor="user-job">Job title</label>
          <input
            id="user-job"
            type="text"
            value={draft.jobTitle}
            onChange={(e) => setDraft({ ...draft, jobTitle: e.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor="user-enabled">Can sign in</label>
          <select
            id="user-enabled"
            value={draft.enabled}
            onChange={(e) => setDraft({ ...draft, enabled: e.target.value as UserFilters['enabled'] })}
          >
            <option value="">Everyone</option>
            <option value="true">Enabled accounts</option>
            <option value="false">Disabled accounts</option>
          </select>
        </div>
        <div className="toolbar-actions">
          <button type="submit" className="button">
            Search
          </button>
          {filtered && (
            <button type="button" className="button button-secondary" onClick={() => navigate(userFiltersPath(NO_USER_FILTERS))}>
              Clear
            </button>
          )}
        </div>
      </form>
      {notice?.kind === 'success' && <Alert kind="success">{notice.text}</Alert>}
      {notice?.kind === 'error' && <ActionError error={notice.error} />}
      {state.status === 'loading' && <Loading label="Loading users…" />}
      {state.status === 'error' && !state.items.length && (
        <ErrorState error={state.error} retry={() => setAttempt((n) => n + 1)} />
      )}
      {(state.status === 'ready' || state.status === 'loading-more' || (state.status === 'error' && state.items.length > 0)) && (
        <>
          <p className="muted" aria-live="polite">
            {usersShown(state.items.length, total, filters)}
          </p>
          {state.items.length === 0 && (
            <Empty>
              <p>{filtered ? 'Nobody matches these filters.' : 'There are no users in the directory.'}</p>
            </Empty>
          )}
          {state.items.length > 0 && (
            <div className="table-wrap">
              <table className="table table-stack">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Job title</th>
                    <th scope="col">Department</th>
                    <th scope="col">Sign-in</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {state.items.map((u) => (
                    <tr key={u.id}>
                      <td>
                        <Link to={adminUserPath(u.id)}>{u.display_name ?? u.user_principal_name ?? u.id}</Link>
                        {u.user_principal_name && <div className="muted small">{u.user_principal_name}</div>}
                      </td>
                      <td data-label="Job title">{u.job_title ?? '—'}</td>
                      <td data-label="Department">{u.department ?? '—'}</td>
                      <td data-label="Sign-in">
                        <EnabledBadge enabled={u.account_enabled} />
                      </td>
                      <td>
                        <div className="actions-cell">
                          {u.account_enabled === false ? (
                            <button
                              type="button"
                              className="button button-secondary button-small"
                              onClick={() => setEnabled(u, true)}
                              disabled={busy === u.id}
                              aria-label={`Enable ${u.display_name ?? u.user_principal_name ?? 'user'}`}
                            >
                              Enable
                            </button>
                          ) : (
                            <ConfirmButton
                              small
                              danger
                              label="Disable"
                              ariaLabel={`Disable ${u.display_name ?? u.user_principal_name ?? 'user'}`}
                              question={`Disable ${u.display_name ?? 'this user'}? They can no longer sign in.`}
                              confirmLabel="Yes, disable"
                              onConfirm={() => setEnabled(u, false)}
                              busy={busy === u.id}
                            />
                          )}
                        </div>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {state.status === 'error' && <ErrorState error={state.error} />}
          {(state.next || state.status === 'loading-more') && (
            <button type="button" className="button button-secondary" onClick={more} disabled={state.status === 'loading-more'}>
              {state.status === 'loading-more' ? 'Loading more…' : 'See more'}
            </button>
          )}
        </>
      )}
      <CreateUserDialog
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={() => setAttempt((n) => n + 1)}
      />
    </AdminPage>
  );
}

export function EnabledBadge({ enabled }: { enabled: boolean | null | undefined }) {
  if (enabled === undefined || enabled === null) return <span className="muted">—</span>;
  return enabled ? (
    <span className="badge badge-enabled">Enabled</span>
  ) : (
    <span className="badge badge-disabled">Disabled</span>
  );
}

type Created = Schemas['CreatedAdminUser'];

const EMPTY_NEW = {
  display_name: '',
  user_principal_name: '',
  given_name: '',
  surname: '',
  job_title: '',
  department: '',
  usage_location: '',
};

/** The "new user" dialog; after creation it shows the temporary password, once. */
function CreateUserDialog({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: () => void }) {
  const [form, setForm] = useState(EMPTY_NEW);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  // The answer with the password lives only here, and is dropped when the dialog closes.
  const [created, setCreated] = useState<Created | null>(null);
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  const formRef = useRef<HTMLFormElement>(null);

  const close = () => {
    setCreated(null);
    setCopied('no');
    setForm(EMPTY_NEW);
    setErrors({});
    setFailure(undefined);
    onClose();
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errs = userDraftErrors(form);
    setErrors(errs);
    setFailure(undefined);
    if (Object.keys(errs).length) {
      requestAnimationFrame(() => focusFirstInvalid(formRef.current));
      return;
    }
    setBusy(true);
    const opt = (v: string) => (v.trim() ? v.trim() : undefined);
    try {
      const r = await api.createAdminUser({
        display_name: form.display_name.trim(),
        user_principal_name: form.user_principal_name.trim(),
        given_name: opt(form.given_name),
        surname: opt(form.surname),
        job_title: opt(form.job_title),
        department: opt(form.department),
        usage_location: opt(form.usage_location)?.toUpperCase(),
      });
      setCreated(r);
      onCreated();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'invalid_upn' || code === 'upn_taken') {
        setErrors({ user_principal_name: code });
        requestAnimationFrame(() => focusFirstInvalid(formRef.current));
      } else {
        setFailure(err);
      }
    } finally {
      setBusy(false);
    }
  };

  const copy = async () => {
    if (!created) return;
    try {
      await navigator.clipboard.writeText(created.temporary_password);
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  };

  const set = (k: keyof typeof EMPTY_NEW) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  return (
    <Dialog open={open} title={created ? 'User created' : 'New user'} onClose={close}>
      {created ? (
        <div className="created-user">
          <Alert kind="success">
            {created.user.display_name ?? 'The user'} was created as{' '}
            <strong>{created.user.user_principal_name}</strong>.
          </Alert>
          <p>
            Their <strong>temporary password</strong> is shown only now: EduGraph does not keep it. Give it to the person;
            they must choose a new one when they first sign in.
          </p>
          <div className="secret">
            <label htmlFor="temporary-password">Temporary password</label>
            <input
              id="temporary-password"
              className="mono temporary-password"
              type="text"
              readOnly
              value={created.temporary_password}
              onFocus={(e) => e.currentTarget.select()}
              autoComplete="off"
              spellCheck={false}
            />
            <button type="button" className="button button-secondary button-small" onClick={copy}>
              {copied === 'yes' ? 'Copied' : 'Copy'}
            </button>
          </div>
          {copied === 'failed' && <p className="hint">Copying is not allowed here: select the password and copy it by hand.</p>}
          <div className="actions">
            <button type="button" className="button" onClick={close}>
              I have noted the password
            </button>
          </div>
        </div>
      ) : (
        <form ref={formRef} onSubmit={submit} noValidate>
          <Field label="Display name" value={form.display_name} onChange={set('display_name')} error={errors.display_name} required />
          <Field
            label="Sign-in name"
            value={form.user_principal_name}
            onChange={set('user_principal_name')}
            error={errors.user_principal_name}
            hint="name@your-school-domain (a verified domain of your Microsoft 365 tenant)"
            autoComplete="off"
            required
          />
          <Field label="First name" value={form.given_name} onChange={set('given_name')} />
          <Field label="Last name" value={form.surname} onChange={set('surname')} />
          <Field label="Job title" value={form.job_title} onChange={set('job_title')} />
          <Field label="Department" value={form.department} onChange={set('department')} />
          <Field
            label="Usage location"
            value={form.usage_location}
            onChange={set('usage_location')}
            error={errors.usage_location}
            hint="Two-letter country code, like US. Needed before a licence can be assigned."
            maxLength={2}
          />
          {failure !== undefined && <ActionError error={failure} />}
          <div className="actions">
            <button type="submit" className="button" disabled={busy}>
              {busy ? 'Creating…' : 'Create user'}
            </button>
            <button type="button" className="button button-secondary" onClick={close}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
