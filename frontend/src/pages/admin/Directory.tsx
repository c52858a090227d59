// Directory sync (which group's members EduGraph keeps in its local directory) and the CSV
// downloads of users and groups.
import { useState, type FormEvent } from 'react';
import { api, downloadFile, ok, type Schemas } from '../../api/client';
import { directoryMembersQuery, directorySyncQuery, syncStatusQuery } from '../../api/queries';
import { Link, adminUserPath } from '../../router';
import { formatWhen } from '../../lib/time';
import { ActionError, Alert, ConfirmButton, ErrorState, Field, Loading, useLoad } from '../../ui';
import { AdminPage } from './common';

type SyncView = Schemas['DirectorySyncView'];

export function AdminDirectory() {
  return (
    <AdminPage title="Directory sync & exports">
      <SyncStatusCard />
      <DirectorySyncCard />
      <ExportsCard />
    </AdminPage>
  );
}

function DirectorySyncCard() {
  const sync = useLoad(directorySyncQuery());
  const [by, setBy] = useState<'name' | 'id'>('name');
  const [value, setValue] = useState('');
  const [fieldError, setFieldError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ kind: 'success' | 'error'; text?: string; error?: unknown }>();

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setResult(undefined);
    const v = value.trim();
    if (!v) {
      setFieldError('required');
      return;
    }
    setFieldError(undefined);
    setBusy(true);
    try {
      const view = await ok(api.PUT('/api/admin/directory-sync', { body: by === 'name' ? { group_name: v } : { group_id: v } }));
      sync.setData(() => view);
      setValue('');
      setResult({ kind: 'success', text: `Directory sync now follows the group ${v}. The sync job picks it up on its next round.` });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'group_not_found' || code === 'group_name_ambiguous') setFieldError(code);
      else setResult({ kind: 'error', error: err });
    } finally {
      setBusy(false);
    }
  };

  const turnOff = async () => {
    setBusy(true);
    setResult(undefined);
    try {
      await api.DELETE('/api/admin/directory-sync');
      sync.setData((d) => ({ ...d, group_id: null }));
      setResult({ kind: 'success', text: 'Directory sync is off. The people already in the local directory stay.' });
    } catch (err) {
      setResult({ kind: 'error', error: err });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="sync-title">
      <h2 id="sync-title">Directory sync</h2>
      <p className="hint">
        EduGraph keeps the direct members of one group of your Microsoft 365 directory (with their managers) in its local
        directory. People who leave the group are marked as left, and restored if they come back.
      </p>
      {sync.status === 'loading' && <Loading />}
      {sync.status === 'error' && <ErrorState error={sync.error} retry={sync.reload} />}
      {sync.status === 'ready' && <SyncFacts view={sync.data} />}
      {sync.status === 'ready' && (sync.data.group_id || sync.data.active_members > 0) && <DirectoryMembers />}
      {result?.kind === 'success' && <Alert kind="success">{result.text}</Alert>}
      {result?.kind === 'error' && <ActionError error={result.error} />}
      {sync.status === 'ready' && (
        <>
          <form onSubmit={save} noValidate>
            <fieldset className="choices">
              <legend>Choose the group by</legend>
              <div className="check">
                <input id="sync-by-name" type="radio" name="sync-by" checked={by === 'name'} onChange={() => setBy('name')} />
                <label htmlFor="sync-by-name">Its name</label>
              </div>
              <div className="check">
                <input id="sync-by-id" type="radio" name="sync-by" checked={by === 'id'} onChange={() => setBy('id')} />
                <label htmlFor="sync-by-id">Its object id</label>
              </div>
            </fieldset>
            <Field
              label={by === 'name' ? 'Group name' : 'Group object id'}
              value={value}
              onChange={(e) => setValue(e.target.value)}
              error={fieldError}
              hint={by === 'name' ? 'Exactly as in Microsoft 365, e.g. All Teachers' : undefined}
              className={by === 'id' ? 'mono' : undefined}
            />
            <div className="actions">
              <button type="submit" className="button" disabled={busy}>
                {busy ? 'Checking with Microsoft…' : sync.data.group_id ? 'Change the group' : 'Turn on directory sync'}
              </button>
              {sync.data.group_id && (
                <ConfirmButton
                  danger
                  label="Turn directory sync off"
                  question="Stop syncing the directory? People already synced stay."
                  confirmLabel="Yes, turn off"
                  onConfirm={turnOff}
                  busy={busy}
                />
              )}
            </div>
          </form>
        </>
      )}
    </section>
  );
}

/** What each stream of the sync job keeps, in words an admin reads. */
export const STREAM_LABELS: Record<string, { title: string; rows: string }> = {
  users: { title: 'People (Microsoft 365 users)', rows: 'people' },
  edu_classes: { title: 'Classes (education roster)', rows: 'classes' },
  edu_users: { title: 'Teachers and students (education roster)', rows: 'people' },
  edu_members: { title: 'Who is in which class (education roster)', rows: 'class memberships' },
  directory: { title: 'Directory group members', rows: 'members' },
};

/** One line on a stream's state: never synced, a round in progress, or up to date. */
export function streamState(s: Pick<Schemas['SyncStreamView'], 'round' | 'last_progress_at'>): string {
  if (!s.round || s.last_progress_at == null) return 'Never synced yet';
  const when = formatWhen(s.last_progress_at);
  if (s.round === 'idle') return `Up to date as of ${when}`;
  return `A sync round is in progress (last progress ${when})`;
}

function SyncStatusCard() {
  const status = useLoad(syncStatusQuery());
  return (
    <section className="card" aria-labelledby="sync-status-title">
      <h2 id="sync-status-title">Sync status</h2>
      <p className="hint">
        The sync job copies your school&apos;s people, classes and roster from Microsoft 365 on a schedule. Rows that
        disappear from Microsoft 365 are kept, marked inactive.
      </p>
      {status.status === 'loading' && <Loading />}
      {status.status === 'error' && <ErrorState error={status.error} retry={status.reload} />}
      {status.status === 'ready' && (
        <div className="table-wrap">
        <table className="table table-stack sync-status">
          <thead>
            <tr>
              <th scope="col">What</th>
              <th scope="col">State</th>
              <th scope="col">Kept</th>
            </tr>
          </thead>
          <tbody>
            {status.data.streams.map((s) => {
              const label = STREAM_LABELS[s.stream] ?? { title: s.stream, rows: 'rows' };
              return (
                <tr key={s.stream}>
                  <td data-label="What">{label.title}</td>
                  <td data-label="State">
                    {streamState(s)}
                    {s.last_error && <p className="field-error small">Last attempt failed: {s.last_error}</p>}
                  </td>
                  <td data-label="Kept">
                    {s.active} {label.rows}
                    {s.inactive > 0 ? `, ${s.inactive} inactive` : ''}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        </div>
      )}
    </section>
  );
}

function SyncFacts({ view }: { view: SyncView }) {
  if (!view.group_id) return <p className="muted">Directory sync is off.</p>;
  return (
    <dl className="facts">
      <dt>Group</dt>
      <dd className="mono">{view.group_id}</dd>
      <dt>Members</dt>
      <dd>
        {view.active_members} in the group, {view.left_members} left, {view.supervisors} with a manager on record
      </dd>
      <dt>State</dt>
      <dd>
        {view.round === 'full' ? 'A sync round is in progress' : view.round === 'idle' ? 'Up to date (last round complete)' : 'Waiting for the first round'}
        {view.last_progress_at ? `, last progress ${formatWhen(view.last_progress_at)}` : ''}
      </dd>
      {view.last_error && (
        <>
          <dt>Last error</dt>
          <dd className="mono">{view.last_error}</dd>
        </>
      )}
    </dl>
  );
}

const EXPORTS = [
  { file: 'users.csv', label: 'Download users.csv' },
  { file: 'groups.csv', label: 'Download groups.csv' },
] as const;

function ExportsCard() {
  const [busy, setBusy] = useState<string | null>(null);
  const [result, setResult] = useState<{ kind: 'success' | 'error'; text?: string; error?: unknown }>();

  const download = async (file: string) => {
    setBusy(file);
    setResult(undefined);
    try {
      const blob = await downloadFile(`/api/admin/exports/${file}`);
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = file;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setResult({ kind: 'success', text: `${file} is downloaded (${formatBytes(blob.size)}).` });
    } catch (err) {
      setResult({ kind: 'error', error: err });
    } finally {
      setBusy(null);
    }
  };

  return (
    <section className="card" aria-labelledby="exports-title">
      <h2 id="exports-title">CSV downloads</h2>
      <p>
        Spreadsheet-safe CSV files (UTF-8). Each download is recorded in the audit log. The users file comes from EduGraph’s
        synced profiles; the groups file is read from Microsoft 365 now.
      </p>
      {result?.kind === 'success' && <Alert kind="success">{result.text}</Alert>}
      {result?.kind === 'error' && <ActionError error={result.error} />}
      <div className="downloads">
        {EXPORTS.map((x) => (
          <button
            key={x.file}
            type="button"
            className="button button-secondary"
            onClick={() => download(x.file)}
            disabled={busy !== null}
          >
            {busy === x.file ? 'Preparing…' : x.label}
          </button>
        ))}
      </div>
    </section>
  );
}

/** "1.2 KB" */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/** The synced group's members with their managers (issue 16: supervisors are visible). */
function DirectoryMembers() {
  const members = useLoad(directoryMembersQuery());
  if (members.status === 'loading') return <Loading label="Reading the local directory…" />;
  if (members.status === 'error') return <ErrorState error={members.error} retry={members.reload} />;
  const items = members.data.items;
  if (!items.length) return <p className="muted">Nobody is in the local directory yet: the next sync round brings the group’s members.</p>;
  return (
    <div className="table-wrap">
      <table className="table table-stack">
        <caption className="visually-hidden">People in the local directory, with their managers</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Job title</th>
            <th scope="col">Manager</th>
          </tr>
        </thead>
        <tbody>
          {items.map((m) => (
            <tr key={m.id}>
              <td data-label="Name">
                <Link to={adminUserPath(m.id)}>{m.display_name ?? 'Unnamed person'}</Link>
              </td>
              <td data-label="Job title">{[m.job_title, m.department].filter(Boolean).join(', ') || '—'}</td>
              <td data-label="Manager">
                {m.manager ? <Link to={adminUserPath(m.manager.id)}>{m.manager.display_name ?? 'Unnamed person'}</Link> : '—'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
