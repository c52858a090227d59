// Groups of the school's directory: search by name, "See more"; a group's members with add
// (pick a person) and remove, "already a member" / "not found" explained, and adding many
// members at once as a background job with a progress bar and a result for each.
import { useQuery } from '@tanstack/react-query';
import { type FormEvent, useLayoutEffect, useState } from 'react';
import { api, ok, type Schemas } from '../../api/client';
import { byId, fetchGroups, groupQuery, keys } from '../../api/queries';
import type { Overrides } from '../../api/errors';
import { ApiError } from '../../api/http';
import { parseIds, plural } from '../../lib/admin';
import { usePaged } from '../../lib/paging';
import { Link, adminGroupPath, adminUserPath, useNav } from '../../router';
import { ActionError, Alert, ConfirmButton, Empty, ErrorState, Loading, TextArea } from '../../ui';
import { AdminPage, BULK_WORDING, JobProgress, JobResults, PeopleChooser, PersonPicker, useJobPolling } from './common';

type Group = Schemas['AdminGroup'];
type Member = Schemas['AdminGroupMember'];
type GroupPage = Awaited<ReturnType<typeof fetchGroups>>;

export function groupKind(g: Pick<Group, 'group_types' | 'security_enabled' | 'mail_enabled'>): string {
  if (g.group_types.includes('Unified')) return 'Microsoft 365 group';
  if (g.security_enabled && g.mail_enabled) return 'Mail-enabled security group';
  if (g.security_enabled) return 'Security group';
  if (g.mail_enabled) return 'Distribution list';
  return 'Group';
}

export function AdminGroups() {
  const { search, navigate } = useNav();
  const q = new URLSearchParams(search).get('search') ?? '';
  const [draft, setDraft] = useState(q);
  // Before paint: what is typed right after the page shows is never overwritten.
  useLayoutEffect(() => setDraft(q), [q]);
  const key = q.trim().toLowerCase();
  const state = usePaged<Group, GroupPage>(keys.groups(key), (cursor) => fetchGroups({ search: q, cursor }));
  const { more } = state;
  const total = state.pages[0]?.total ?? null;

  const onSearch = (e: FormEvent) => {
    e.preventDefault();
    navigate(draft.trim() ? `/admin/groups?search=${encodeURIComponent(draft.trim())}` : '/admin/groups');
  };

  return (
    <AdminPage title="Groups">
      <form className="toolbar" role="search" onSubmit={onSearch}>
        <div className="field">
          <label htmlFor="group-search">Group name starts with</label>
          <input id="group-search" type="search" value={draft} onChange={(e) => setDraft(e.target.value)} />
        </div>
        <div className="toolbar-actions">
          <button type="submit" className="button">
            Search
          </button>
          {q && (
            <button type="button" className="button button-secondary" onClick={() => navigate('/admin/groups')}>
              Clear
            </button>
          )}
        </div>
      </form>
      {state.status === 'loading' && <Loading label="Loading groups…" />}
      {state.status === 'error' && !state.items.length && (
        <ErrorState error={state.error} retry={state.retry} />
      )}
      {state.status !== 'loading' && state.status !== 'idle' && !(state.status === 'error' && !state.items.length) && (
        <>
          <p className="muted" aria-live="polite">
            {typeof total === 'number' ? `${state.items.length} of ${plural(total, 'group')}` : plural(state.items.length, 'group')} shown
            {q && <> matching “{q}”</>}.
          </p>
          {state.items.length === 0 && (
            <Empty>
              <p>{q ? `No group’s name starts with “${q}”.` : 'Your school has no groups yet.'}</p>
            </Empty>
          )}
          {state.items.length > 0 && (
            <ul className="cards group-cards">
              {state.items.map((g) => (
                <li key={g.id} className="card">
                  <h3>
                    <Link to={adminGroupPath(g.id)}>{g.display_name ?? 'Unnamed group'}</Link>
                  </h3>
                  <p className="muted">
                    {groupKind(g)}
                    {g.mail && <> · {g.mail}</>}
                  </p>
                  {g.description && <p>{g.description}</p>}
                </li>
              ))}
            </ul>
          )}
          {state.status === 'error' && <ErrorState error={state.error} />}
          {(state.next || state.status === 'loading-more') && (
            <button type="button" className="button button-secondary" onClick={more} disabled={state.status === 'loading-more'}>
              {state.status === 'loading-more' ? 'Loading more…' : 'See more'}
            </button>
          )}
        </>
      )}
    </AdminPage>
  );
}

export function AdminGroupPage({ id }: { id: string }) {
  const members = usePaged<Member>(keys.groupMembers(id), (cursor) =>
    ok(api.GET('/api/admin/groups/{id}/members', { params: { path: { id }, query: cursor ? { cursor } : {} } })),
  );
  const { more } = members;
  const [notice, setNotice] = useState<{ kind: 'success' | 'error' | 'info'; text?: string; error?: unknown; overrides?: Overrides }>();
  const [busy, setBusy] = useState<string | null>(null);
  const name = useGroupName(id);

  const add = async (u: Schemas['AdminUser']) => {
    const who = u.display_name ?? u.user_principal_name ?? 'This person';
    setBusy(u.id);
    setNotice(undefined);
    try {
      await api.POST('/api/admin/groups/{id}/members', { ...byId(id), body: { member_id: u.id } });
      setNotice({ kind: 'success', text: `${who} is now a member of ${name ?? 'the group'}.` });
      members.retry();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'already_a_member') {
        setNotice({ kind: 'info', text: `${who} is already a member of ${name ?? 'this group'}: nothing changed.` });
      } else if (err instanceof ApiError && err.code === 'not_found') {
        setNotice({
          kind: 'error',
          error: err,
          overrides: { not_found: `${who} or the group was not found in your school’s directory (deleted meanwhile?). Reload and try again.` },
        });
      } else {
        setNotice({ kind: 'error', error: err });
      }
    } finally {
      setBusy(null);
    }
  };

  const remove = async (m: Member) => {
    const who = m.display_name ?? m.user_principal_name ?? 'This member';
    setBusy(m.id);
    setNotice(undefined);
    try {
      await api.DELETE('/api/admin/groups/{id}/members/{member_id}', { params: { path: { id, member_id: m.id } } });
      setNotice({ kind: 'success', text: `${who} was removed from ${name ?? 'the group'}.` });
      members.editItems((items) => items.filter((x) => x.id !== m.id));
    } catch (err) {
      if (err instanceof ApiError && err.code === 'not_a_member') {
        setNotice({ kind: 'info', text: `${who} was not a member any more: nothing changed.` });
        members.retry();
      } else {
        setNotice({ kind: 'error', error: err });
      }
    } finally {
      setBusy(null);
    }
  };

  const missing = members.status === 'error' && members.error instanceof ApiError && members.error.code === 'not_found';
  return (
    <AdminPage title={name ?? 'Group'}>
      <p>
        <Link to="/admin/groups">← All groups</Link>
      </p>
      {missing ? (
        <Alert kind="error">There is no such group in your school’s directory.</Alert>
      ) : (
        <>
          <section className="card" aria-labelledby="add-title">
            <h2 id="add-title">Add a member</h2>
            <PersonPicker
              label="Find a person by name"
              actionLabel={(u) => `Add ${u.display_name ?? u.user_principal_name ?? 'this person'} to the group`}
              onPick={add}
              busyId={busy}
            />
          </section>
          {notice?.kind === 'error' ? (
            <ActionError error={notice.error} overrides={notice.overrides} />
          ) : (
            notice && <Alert kind={notice.kind}>{notice.text}</Alert>
          )}
          <section className="card" aria-labelledby="members-title">
            <h2 id="members-title">Members</h2>
            {members.status === 'loading' && <Loading label="Loading members…" />}
            {members.status === 'error' && !members.items.length && (
              <ErrorState error={members.error} retry={members.retry} />
            )}
            {(members.status === 'ready' || members.status === 'loading-more' || members.items.length > 0) && (
              <>
                <p className="muted" aria-live="polite">
                  {plural(members.items.length, 'member')} shown{members.next ? ' — there are more.' : '.'}
                </p>
                {members.items.length === 0 && !members.next && (
                  <Empty>
                    <p>This group has no direct members.</p>
                  </Empty>
                )}
                {members.items.length > 0 && (
                  <div className="table-wrap">
                    <table className="table table-stack">
                      <thead>
                        <tr>
                          <th scope="col">Member</th>
                          <th scope="col">Kind</th>
                          <th scope="col">
                            <span className="visually-hidden">Actions</span>
                          </th>
                        </tr>
                      </thead>
                      <tbody>
                        {members.items.map((m) => (
                          <tr key={m.id}>
                            <td>
                              {m.kind === 'user' ? (
                                <Link to={adminUserPath(m.id)}>{m.display_name ?? m.id}</Link>
                              ) : (
                                (m.display_name ?? m.id)
                              )}
                              {(m.user_principal_name ?? m.mail) && (
                                <div className="muted small">{m.user_principal_name ?? m.mail}</div>
                              )}
                            </td>
                            <td data-label="Kind">{m.kind === 'user' ? 'Person' : m.kind === 'group' ? 'Group' : 'Other'}</td>
                            <td>
                              <div className="actions-cell">
                                <ConfirmButton
                                  small
                                  danger
                                  label="Remove"
                                  ariaLabel={`Remove ${m.display_name ?? m.user_principal_name ?? 'member'} from the group`}
                                  question={`Remove ${m.display_name ?? 'this member'} from the group?`}
                                  confirmLabel="Yes, remove"
                                  onConfirm={() => remove(m)}
                                  busy={busy === m.id}
                                />
                              </div>
                            </td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                )}
                {members.status === 'error' && <ErrorState error={members.error} />}
                {(members.next || members.status === 'loading-more') && (
                  <button
                    type="button"
                    className="button button-secondary"
                    onClick={more}
                    disabled={members.status === 'loading-more'}
                  >
                    {members.status === 'loading-more' ? 'Loading more…' : 'See more'}
                  </button>
                )}
              </>
            )}
          </section>
          <BulkAddCard
            groupId={id}
            onDone={members.retry}
            nameOf={(mid) => members.items.find((m) => m.id === mid)?.display_name ?? undefined}
          />
        </>
      )}
    </AdminPage>
  );
}

/** The group's display name (Graph's members list does not carry it), from
 * `GET /api/admin/groups/{id}`; the page works without it. */
function useGroupName(id: string): string | undefined {
  const group = useQuery(groupQuery(id));
  return group.data?.display_name ?? undefined;
}

function BulkAddCard({
  groupId,
  onDone,
  nameOf,
}: {
  groupId: string;
  onDone: () => void;
  nameOf: (id: string) => string | undefined;
}) {
  const [text, setText] = useState('');
  const [people, setPeople] = useState<Schemas['AdminUser'][]>([]);
  const [error, setError] = useState<string>();
  const [failure, setFailure] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const { job, error: pollError, start } = useJobPolling(null, onDone, 'bulk_add_members');
  const running = Boolean(job && job.status !== 'succeeded' && job.status !== 'failed');
  const everyone = () => parseIds([...people.map((u) => u.id), text].join('\n'));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFailure(undefined);
    const parsed = everyone();
    setError(parsed.error);
    if (parsed.error) return;
    setBusy(true);
    try {
      start(await ok(api.POST('/api/admin/groups/{id}/members/bulk', { ...byId(groupId), body: { member_ids: parsed.ids } })));
    } catch (err) {
      setFailure(err);
    } finally {
      setBusy(false);
    }
  };

  const parsed = everyone();
  return (
    <section className="card" aria-labelledby="bulk-title">
      <h2 id="bulk-title">Add many members</h2>
      <p className="hint">
        Find people by name and add them to the list, or paste their emails (sign-in names), one a line or separated
        by commas. Up to 1,000 at a time; it runs in the background.
      </p>
      <PeopleChooser chosen={people} onChosen={setPeople} what="to add" />
      <form onSubmit={submit} noValidate>
        <TextArea
          label="Or paste emails or sign-in names"
          rows={4}
          value={text}
          onChange={(e) => setText(e.target.value)}
          error={error}
          hint={
            parsed.invalid.length
              ? `Not an email or sign-in name: ${parsed.invalid.slice(0, 3).join(', ')}${parsed.invalid.length > 3 ? '…' : ''}`
              : parsed.ids.length
                ? `${plural(parsed.ids.length, 'person', 'people')} to add`
                : undefined
          }
        />
        <div className="actions">
          <button type="submit" className="button" disabled={busy || running}>
            {running ? 'Running…' : busy ? 'Starting…' : 'Add members'}
          </button>
        </div>
      </form>
      {failure !== undefined && <ActionError error={failure} overrides={BULK_WORDING} />}
      {pollError !== undefined && <ActionError error={pollError} />}
      {job && <JobProgress job={job} />}
      {job && <JobResults job={job} nameOf={nameOf} />}
    </section>
  );
}
