// Users of the school's Microsoft 365 directory: search by name, filter by department, job
// title and whether they can sign in, "See more"; enable/disable; create a user, whose
// temporary password is shown once (EduGraph does not keep it).
import { type FormEvent, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { api, ok, type Schemas } from '../../api/client';
import { byId, fetchGroups, fetchUsers, keys, licensesQuery } from '../../api/queries';
import {
  NO_USER_FILTERS,
  availability,
  count,
  licenceName,
  plural,
  selectShown,
  shownState,
  toggleSelected,
  userDraftErrors,
  userFiltersFrom,
  userFiltersPath,
  usersKey,
  usersQuery,
  usersShown,
  type AdminUser,
  type Selection,
  type UserFilters,
} from '../../lib/admin';
import { jobFinished } from '../../lib/jobs';
import { usePaged } from '../../lib/paging';
import { Link, adminUserPath, useNav } from '../../router';
import { ActionError, Alert, ConfirmButton, Dialog, Empty, ErrorState, Field, Loading, focusFirstInvalid, useLoad } from '../../ui';
import { AdminPage, BULK_WORDING, JobProgress, JobResults, useJobPolling } from './common';

type UsersPage = Awaited<ReturnType<typeof fetchUsers>>;

export function AdminUsers() {
  const { search, navigate } = useNav();
  const filters = userFiltersFrom(search);
  const key = usersKey(filters);
  const [draft, setDraft] = useState<UserFilters>(filters);
  // Before paint: what is typed right after the page shows is never overwritten.
  useLayoutEffect(() => setDraft(userFiltersFrom(search)), [search]);
  const state = usePaged<AdminUser, UsersPage>(keys.users(key), (cursor) => fetchUsers(usersQuery(filters, cursor)));
  const total = state.pages[0]?.total ?? null;
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<{ kind: 'success' | 'error'; text?: string; error?: unknown }>();
  const [busy, setBusy] = useState<string | null>(null);
  const [selected, setSelected] = useState<Selection>(new Map());
  const allBox = useRef<HTMLInputElement>(null);
  const shown = shownState(selected, state.items);
  useEffect(() => {
    if (allBox.current) allBox.current.indeterminate = shown === 'some';
  }, [shown]);

  const { more } = state;

  const apply = (e: FormEvent) => {
    e.preventDefault();
    navigate(userFiltersPath(draft));
  };

  const setEnabled = async (u: AdminUser, enabled: boolean) => {
    setBusy(u.id);
    setNotice(undefined);
    try {
      await api.POST(enabled ? '/api/admin/users/{id}/enable' : '/api/admin/users/{id}/disable', byId(u.id));
      const name = u.display_name ?? u.user_principal_name ?? 'The user';
      setNotice({
        kind: 'success',
        text: enabled ? `${name} can sign in again.` : `${name} is disabled: they can no longer sign in.`,
      });
      // Keep the row where it is; a filtered list is refreshed by the next search.
      state.editItems((items) => items.map((x) => (x.id === u.id ? { ...x, account_enabled: enabled } : x)));
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
      {selected.size > 0 && <SelectionCard selected={selected} onClear={() => setSelected(new Map())} />}
      {state.status === 'loading' && <Loading label="Loading users…" />}
      {state.status === 'error' && !state.items.length && (
        <ErrorState error={state.error} retry={state.retry} />
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
                    <th scope="col">
                      <input
                        ref={allBox}
                        type="checkbox"
                        aria-label="Select everyone shown"
                        checked={shown === 'all'}
                        onChange={(e) => setSelected(selectShown(selected, state.items, e.target.checked))}
                      />
                    </th>
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
                      <td className="select-cell">
                        <input
                          type="checkbox"
                          aria-label={`Select ${u.display_name ?? u.user_principal_name ?? u.id}`}
                          checked={selected.has(u.id)}
                          onChange={(e) => setSelected(toggleSelected(selected, u, e.target.checked))}
                        />
                      </td>
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
        onCreated={state.retry}
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
      const r = await ok(
        api.POST('/api/admin/users', {
          body: {
            display_name: form.display_name.trim(),
            user_principal_name: form.user_principal_name.trim(),
            given_name: opt(form.given_name),
            surname: opt(form.surname),
            job_title: opt(form.job_title),
            department: opt(form.department),
            usage_location: opt(form.usage_location)?.toUpperCase(),
          },
        }),
      );
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

/** Bulk operations on the chosen users: assign a licence, or add them to a group. */
function SelectionCard({ selected, onClear }: { selected: Selection; onClear: () => void }) {
  const [action, setAction] = useState<'licence' | 'group'>('licence');
  const [failure, setFailure] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const skus = useLoad(licensesQuery());
  const [sku, setSku] = useState('');
  const [groupQuery, setGroupQuery] = useState('');
  const [groups, setGroups] = useState<{ items: Schemas['AdminGroup'][] } | { error: unknown } | null>(null);
  const [group, setGroup] = useState<Schemas['AdminGroup'] | null>(null);
  const { job, error: pollError, start } = useJobPolling(null);
  // The names of the people of the job, kept as they were when it started.
  const [names, setNames] = useState<Selection>(new Map());
  const running = Boolean(job && !jobFinished(job));
  const skuList = skus.status === 'ready' ? skus.data.items : [];
  const chosenSku = skuList.find((l) => l.sku_id === sku) ?? skuList[0];
  const n = selected.size;

  const findGroups = (e: FormEvent) => {
    e.preventDefault();
    setGroups(null);
    fetchGroups({ search: groupQuery }).then(
      (page) => setGroups({ items: page.items }),
      (error: unknown) => setGroups({ error }),
    );
  };

  const run = async () => {
    setFailure(undefined);
    setBusy(true);
    const ids = [...selected.keys()];
    try {
      const j =
        action === 'licence'
          ? chosenSku
            ? await ok(api.POST('/api/admin/licenses/bulk-assign', { body: { sku_id: chosenSku.sku_id, user_ids: ids } }))
            : null
          : group
            ? await ok(api.POST('/api/admin/groups/{id}/members/bulk', { ...byId(group.id), body: { member_ids: ids } }))
            : null;
      if (j) {
        setNames(new Map(selected));
        start(j);
      }
    } catch (err) {
      setFailure(err);
    } finally {
      setBusy(false);
    }
  };

  const ready = action === 'licence' ? Boolean(chosenSku) : Boolean(group);
  return (
    <section className="card selection" aria-labelledby="selection-title">
      <div className="section-head">
        <h2 id="selection-title">{plural(n, 'person', 'people')} chosen</h2>
        <button type="button" className="button button-secondary button-small" onClick={onClear}>
          Clear the choice
        </button>
      </div>
      <fieldset className="choices">
        <legend>What to do for them</legend>
        <div className="check">
          <input id="bulk-licence" type="radio" name="bulk-action" checked={action === 'licence'} onChange={() => setAction('licence')} />
          <label htmlFor="bulk-licence">Assign a licence</label>
        </div>
        <div className="check">
          <input id="bulk-group" type="radio" name="bulk-action" checked={action === 'group'} onChange={() => setAction('group')} />
          <label htmlFor="bulk-group">Add to a group</label>
        </div>
      </fieldset>
      {action === 'licence' && (
        <>
          {skus.status === 'loading' && <Loading label="Loading licences…" />}
          {skus.status === 'error' && <ErrorState error={skus.error} retry={skus.reload} />}
          {chosenSku && (
            <div className="field">
              <label htmlFor="selection-sku">Licence</label>
              <select id="selection-sku" value={chosenSku.sku_id} onChange={(e) => setSku(e.target.value)}>
                {skuList.map((l) => (
                  <option key={l.sku_id} value={l.sku_id}>
                    {licenceName(l)} — {count(l.available_units)} left
                  </option>
                ))}
              </select>
              <p className="hint">{availability(chosenSku).text}</p>
            </div>
          )}
        </>
      )}
      {action === 'group' && (
        <>
          <form className="toolbar" role="search" onSubmit={findGroups}>
            <div className="field">
              <label htmlFor="selection-group">Group name starts with</label>
              <input id="selection-group" type="search" value={groupQuery} onChange={(e) => setGroupQuery(e.target.value)} />
            </div>
            <div className="toolbar-actions">
              <button type="submit" className="button button-secondary">
                Find groups
              </button>
            </div>
          </form>
          {groups && 'error' in groups && <ActionError error={groups.error} />}
          {groups && 'items' in groups && groups.items.length === 0 && <p className="muted">No group’s name starts with “{groupQuery}”.</p>}
          {groups && 'items' in groups && groups.items.length > 0 && (
            <ul className="picker-results" aria-label="Groups found">
              {groups.items.map((g) => (
                <li key={g.id}>
                  <span>{g.display_name ?? g.id}</span>
                  <button
                    type="button"
                    className="button button-small"
                    aria-pressed={group?.id === g.id}
                    onClick={() => setGroup(g)}
                  >
                    <span aria-hidden="true">{group?.id === g.id ? 'Chosen' : 'Choose'}</span>
                    <span className="visually-hidden">Choose the group {g.display_name ?? g.id}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      {failure !== undefined && <ActionError error={failure} overrides={BULK_WORDING} />}
      {pollError !== undefined && <ActionError error={pollError} />}
      <div className="actions">
        <button type="button" className="button" onClick={run} disabled={!ready || busy || running}>
          {running
            ? 'Running…'
            : busy
              ? 'Starting…'
              : action === 'licence'
                ? `Assign to ${plural(n, 'person', 'people')}`
                : `Add ${plural(n, 'person', 'people')} to ${group?.display_name ?? 'the group'}`}
        </button>
      </div>
      {job && <JobProgress job={job} />}
      {job && <JobResults job={job} nameOf={(id) => names.get(id)} />}
    </section>
  );
}
