// Shared parts of the tenant admin console: the section navigation, a background job's
// progress bar with its per-item results, and a person picker (search the directory by name).
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { api, ok, type Schemas } from '../../api/client';
import { byId, fetchUsers, keys } from '../../api/queries';
import { usePaged } from '../../lib/paging';
import { humanError, type Overrides } from '../../api/errors';
import { ApiError } from '../../api/http';
import { ITEM_RESULT, itemError, mergeItems, usersQuery, NO_USER_FILTERS, type JobItem } from '../../lib/admin';
import { jobFinished, jobPercent, jobSummary, jobTitle, pollDelay, type Job } from '../../lib/jobs';
import { formatWhen } from '../../lib/time';
import { Link, useNav } from '../../router';
import { ActionError, Alert, Page } from '../../ui';

const SECTIONS: Array<{ to: string; label: string }> = [
  { to: '/admin', label: 'Overview' },
  { to: '/admin/users', label: 'Users' },
  { to: '/admin/groups', label: 'Groups' },
  { to: '/admin/licenses', label: 'Licences' },
  { to: '/admin/local-accounts', label: 'Local accounts' },
  { to: '/admin/audit', label: 'Audit log' },
  { to: '/admin/directory', label: 'Directory sync & exports' },
];

/** An admin page: its title and the console's section navigation. */
export function AdminPage({ title, children }: { title: string; children: ReactNode }) {
  const { path, flash } = useNav();
  return (
    <Page title={title}>
      <nav aria-label="Administration" className="tabs admin-nav">
        {SECTIONS.map((s) => (
          <Link key={s.to} to={s.to} current={s.to === '/admin' ? path === '/admin' : path.startsWith(s.to)}>
            {s.label}
          </Link>
        ))}
      </nav>
      {flash && <Alert kind="success">{flash}</Alert>}
      {children}
    </Page>
  );
}

/** A bulk start refused because one of its kind runs: there is no progress to show here. */
export const BULK_WORDING: Overrides = {
  job_already_running:
    'A bulk operation of this kind is already running for your school. Wait for it to finish, then try again.',
};

/** A job's progress bar and summary (the bar is named after the job kind). */
export function JobProgress({ job }: { job: Job }) {
  const pct = jobPercent(job);
  return (
    <div className="job">
      <div
        className="progress"
        role="progressbar"
        aria-label={jobTitle(job)}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        aria-valuetext={pct === undefined ? 'Starting' : `${pct}%`}
      >
        <div
          className={pct === undefined ? 'progress-bar progress-indeterminate' : 'progress-bar'}
          ref={(el) => el?.style.setProperty('width', `${pct ?? 30}%`)}
        />
      </div>
      <p aria-live="polite">
        {pct !== undefined && <strong>{pct}% · </strong>}
        <span className="job-summary">{jobSummary(job)}</span>
      </p>
      {job.status === 'failed' && job.last_error && (
        <Alert kind="error">
          It stopped: {humanError(new ApiError(0, job.last_error))} (code {job.last_error})
        </Alert>
      )}
      {job.status === 'succeeded' && job.failed > 0 && job.last_error && (
        <p className="muted">Last error for the failed items: {job.last_error}</p>
      )}
      <p className="muted">
        Started {formatWhen(job.created_at)}
        {job.finished_at ? `, finished ${formatWhen(job.finished_at)}` : ''}.
      </p>
    </div>
  );
}

/** Polls a job until it finishes (a failed poll is shown and retried, more slowly); `onFinished`
 * runs once at the end. The job is the query `['admin', 'jobs', id]`, refetched at `pollDelay`. */
export function useJobPolling(initial: Job | null, onFinished?: (job: Job) => void, resumeKind?: string) {
  const client = useQueryClient();
  const [jobId, setJobId] = useState<string | null>(initial?.id ?? null);
  const attempt = useRef(0);
  const finished = useRef(onFinished);
  finished.current = onFinished;
  const reported = useRef<string | null>(null);
  // Coming back to the page: a job of this kind still running in the background is shown
  // again (at most one of a kind runs per school at a time).
  const recent = useQuery({
    queryKey: keys.recentJobs(resumeKind ?? ''),
    queryFn: () => ok(api.GET('/api/admin/jobs', { params: { query: { kind: resumeKind ?? '', limit: 1 } } })),
    enabled: Boolean(resumeKind),
    gcTime: 0,
  });
  const latest = recent.data?.items[0];
  useEffect(() => {
    if (!latest || jobFinished(latest)) return;
    client.setQueryData(keys.job(latest.id), (have: Job | undefined) => have ?? latest);
    setJobId((current) => current ?? latest.id);
  }, [client, latest]);
  const polled = useQuery({
    queryKey: keys.job(jobId ?? ''),
    queryFn: () => {
      attempt.current += 1;
      return ok(api.GET('/api/admin/jobs/{id}', byId(jobId ?? '')));
    },
    enabled: jobId !== null,
    initialData: initial && initial.id === jobId ? initial : undefined,
    // The job was just answered (started or listed): the next poll waits for its delay.
    staleTime: Infinity,
    refetchInterval: (query) => {
      const j = query.state.data;
      return j && jobFinished(j) ? false : pollDelay(attempt.current);
    },
    refetchIntervalInBackground: true,
  });
  const job = jobId === null ? null : (polled.data ?? null);
  useEffect(() => {
    if (job && jobFinished(job) && reported.current !== job.id) {
      reported.current = job.id;
      finished.current?.(job);
    }
  }, [job]);
  const start = useCallback(
    (j: Job) => {
      attempt.current = 0;
      client.setQueryData(keys.job(j.id), j);
      setJobId(j.id);
    },
    [client],
  );
  return { job, error: polled.isError ? polled.error : undefined, start };
}

/** The per-item results of a finished bulk job, a page at a time ("See more"). */
export function JobResults({ job, nameOf }: { job: Job; nameOf?: (id: string) => string | undefined }) {
  const done = jobFinished(job);
  const results = usePaged<JobItem>(
    keys.jobItems(job.id),
    async (cursor) => {
      const after = cursor === null ? undefined : Number(cursor);
      const page = await ok(
        api.GET('/api/admin/jobs/{id}/items', { params: { path: { id: job.id }, query: { limit: 100, after } } }),
      );
      return { items: page.items, next_cursor: page.next_after == null ? null : String(page.next_after) };
    },
    done,
  );
  const items = results.pages.reduce<JobItem[]>((have, page) => mergeItems(have, page.items), []);
  const { status, error, next } = results;
  const loading = status === 'loading' || status === 'loading-more';

  if (!done) return null;
  return (
    <section aria-labelledby={`results-${job.id}`}>
      <h3 id={`results-${job.id}`}>Result for each item</h3>
      {status === 'error' && <ActionError error={error} />}
      {items.length === 0 && status === 'ready' && <p className="muted">No item was recorded.</p>}
      {items.length > 0 && (
        <div className="table-wrap">
          <table className="table table-stack job-results">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Item</th>
                <th scope="col">Result</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {items.map((i) => {
                const e = itemError(i.error);
                const name = nameOf?.(i.item_id);
                return (
                  <tr key={i.seq}>
                    <td data-label="#">{i.seq + 1}</td>
                    <td data-label="Item">
                      {name ?? <span className="mono">{i.item_id}</span>}
                      {name && <div className="muted small mono">{i.item_id}</div>}
                    </td>
                    <td data-label="Result">
                      <span className={`badge badge-result-${i.result}`}>{ITEM_RESULT[i.result] ?? i.result}</span>
                    </td>
                    <td data-label="Details">
                      {e.text}
                      {e.code && <div className="muted small mono">{e.code}</div>}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {loading && <p className="muted" role="status">Loading the results…</p>}
      {next !== null && !loading && (
        <button type="button" className="button button-secondary" onClick={results.more}>
          See more results
        </button>
      )}
    </section>
  );
}

type PickedUser = Schemas['AdminUser'];

/** Search the directory by name and pick a person (keyboard: type, Enter, Tab to a result). */
export function PersonPicker({
  label,
  actionLabel,
  onPick,
  busyId,
  findText = 'Find',
  searchName = 'Person search',
}: {
  label: string;
  actionLabel: (u: PickedUser) => string;
  onPick: (u: PickedUser) => void;
  busyId?: string | null;
  /** The search button's text (two pickers on a page need two names). */
  findText?: string;
  /** The search landmark's name (unique on the page). */
  searchName?: string;
}) {
  const [q, setQ] = useState('');
  const [state, setState] = useState<
    { status: 'idle' } | { status: 'loading' } | { status: 'ready'; items: PickedUser[] } | { status: 'error'; error: unknown }
  >({ status: 'idle' });
  const id = useId();

  const search = (e: FormEvent) => {
    e.preventDefault();
    e.stopPropagation();
    if (!q.trim()) return;
    setState({ status: 'loading' });
    fetchUsers(usersQuery({ ...NO_USER_FILTERS, search: q })).then(
      (page) => setState({ status: 'ready', items: page.items }),
      (error: unknown) => setState({ status: 'error', error }),
    );
  };

  return (
    <div className="picker">
      <form className="toolbar" role="search" aria-label={searchName} onSubmit={search}>
        <div className="field">
          <label htmlFor={id}>{label}</label>
          <input id={id} type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Start of a name" />
        </div>
        <div className="toolbar-actions">
          <button type="submit" className="button button-secondary">
            {findText}
          </button>
        </div>
      </form>
      {state.status === 'loading' && <p className="muted" role="status">Searching…</p>}
      {state.status === 'error' && <ActionError error={state.error} />}
      {state.status === 'ready' && state.items.length === 0 && <p className="muted">Nobody’s name starts with “{q}”.</p>}
      {state.status === 'ready' && state.items.length > 0 && (
        <ul className="picker-results" aria-label="Search results">
          {state.items.map((u) => (
            <li key={u.id}>
              <span>
                {u.display_name ?? u.id}
                {u.user_principal_name && <span className="muted small"> · {u.user_principal_name}</span>}
              </span>
              <button
                type="button"
                className="button button-small"
                onClick={() => onPick(u)}
                disabled={busyId === u.id}
>
                {/* The spoken name is the whole action; the visible word is hidden from it (R-A11Y:
                    no aria-label that leaves out the visible text). */}
                <span aria-hidden="true">{busyId === u.id ? 'Working…' : 'Choose'}</span>
                <span className="visually-hidden">{actionLabel(u)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * Several people for a bulk action (issue 16: never object ids): find them by name and add
 * them to the list, and/or paste emails or sign-in names. The caller submits
 * `[...chosen ids, ...pasted entries]`; the server looks the names up.
 */
export function PeopleChooser({
  chosen,
  onChosen,
  what,
}: {
  chosen: PickedUser[];
  onChosen: (people: PickedUser[]) => void;
  /** e.g. "to the group". */
  what: string;
}) {
  return (
    <div className="people-chooser">
      <PersonPicker
        label="Find people by name"
        findText="Find people"
        searchName="People search"
        actionLabel={(u) => `Add ${u.display_name ?? u.user_principal_name ?? 'this person'} to the list`}
        onPick={(u) => {
          if (!chosen.some((c) => c.id === u.id)) onChosen([...chosen, u]);
        }}
      />
      {chosen.length > 0 && (
        <>
          <p className="muted" aria-live="polite">
            {chosen.length === 1 ? '1 person' : `${chosen.length} people`} chosen {what}:
          </p>
          <ul className="chips" aria-label="Chosen people">
            {chosen.map((u) => (
              <li key={u.id} className="chip">
                <span className="break-anywhere">{u.display_name ?? u.user_principal_name ?? u.id}</span>
                <button
                  type="button"
                  className="link-button"
                  onClick={() => onChosen(chosen.filter((c) => c.id !== u.id))}
                >
                  <span aria-hidden="true">×</span>
                  <span className="visually-hidden">Remove {u.display_name ?? u.user_principal_name ?? 'this person'} from the list</span>
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
