// Classes: mine, or all classes of a school; search by name or code; "See more" pages with the
// API's cursor. The query lives in the address (`?scope=all&school=…&q=…`), so Back and links work.
// "My classes" may come from the server's copy (≤ 5 minutes old; "Refresh" reads Microsoft again),
// and from its stored copy with a banner when Microsoft 365 is not answering (issue 18, R-C9).
import { type FormEvent, useLayoutEffect, useRef, useState } from 'react';
import type { ClassItem, Me } from '../api/client';
import { fetchClasses, keys, schoolsQuery } from '../api/queries';
import { humanError } from '../api/errors';
import { classesKey, usePaged, type PagedState } from '../lib/paging';
import { Link, classPath, useNav } from '../router';
import { Alert, Empty, ErrorState, Loading, Page, useLoad } from '../ui';
import { StaleBanner } from './stale';

function classesUrl(scope: 'mine' | 'all', school: string, q: string): string {
  const p = new URLSearchParams({ scope });
  if (scope === 'all' && school) p.set('school', school);
  if (q.trim()) p.set('q', q.trim());
  return `/classes?${p.toString()}`;
}

export function Classes(_props: { me: Me }) {
  const { search, navigate } = useNav();
  const params = new URLSearchParams(search);
  const scope = params.get('scope') === 'all' ? 'all' : 'mine';
  const q = params.get('q') ?? '';
  // The school picker is needed for "All" only.
  const schools = useLoad({ ...schoolsQuery(), enabled: scope === 'all' });
  const schoolList = schools.status === 'ready' ? [...schools.data.mine, ...schools.data.others] : [];
  const school =
    scope === 'all' ? (params.get('school') ?? (schools.status === 'ready' ? (schoolList[0]?.id ?? '') : '')) : '';
  const [draft, setDraft] = useState(q);
  // Before paint: what is typed right after the page shows is never overwritten.
  useLayoutEffect(() => setDraft(q), [q]);

  const key = classesKey(scope, school, q);
  const ready = scope === 'mine' || Boolean(school);
  // Set by "Refresh": the next first page is read from Microsoft again.
  const refreshNext = useRef(false);
  const state = usePaged<ClassItem, ClassPageAnswer>(
    keys.classList(key),
    (cursor) => {
      const refresh = refreshNext.current && !cursor;
      if (!cursor) refreshNext.current = false;
      return fetchClasses({ scope, school_id: school, q, cursor, refresh });
    },
    ready,
  );
  const staleAsOf = state.pages[0]?.stale_as_of;
  const refresh = () => {
    refreshNext.current = true;
    state.retry();
  };

  const onSearch = (e: FormEvent) => {
    e.preventDefault();
    navigate(classesUrl(scope, school, draft));
  };

  return (
    <Page title="Classes">
      <nav aria-label="Which classes" className="tabs">
        <Link to={classesUrl('mine', school, q)} current={scope === 'mine'}>
          My classes
        </Link>
        <Link to={classesUrl('all', school, q)} current={scope === 'all'}>
          All classes of a school
        </Link>
      </nav>
      <form className="toolbar" role="search" onSubmit={onSearch}>
        {scope === 'all' && (
          <div className="field">
            <label htmlFor="school">School</label>
            {schools.status === 'error' ? (
              <Alert kind="error">{humanError(schools.error)}</Alert>
            ) : (
              <select
                id="school"
                value={school}
                disabled={schools.status !== 'ready'}
                onChange={(e) => navigate(classesUrl('all', e.target.value, draft))}
              >
                {schools.status !== 'ready' && <option value="">Loading schools…</option>}
                {schoolList.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.display_name ?? s.id}
                  </option>
                ))}
              </select>
            )}
          </div>
        )}
        <div className="field">
          <label htmlFor="class-search">Search by name or code</label>
          <input id="class-search" type="search" value={draft} onChange={(e) => setDraft(e.target.value)} />
        </div>
        <div className="toolbar-actions">
          <button type="submit" className="button">
            Search
          </button>
          {q && (
            <button type="button" className="button button-secondary" onClick={() => navigate(classesUrl(scope, school, ''))}>
              Clear
            </button>
          )}
        </div>
      </form>
      {scope === 'all' && schools.status === 'ready' && !schoolList.length && (
        <Empty>
          <p>There are no schools to list classes for.</p>
        </Empty>
      )}
      {staleAsOf ? (
        <StaleBanner staleAsOf={staleAsOf} what="your classes" onRefresh={refresh} busy={state.status === 'loading'} />
      ) : (
        scope === 'mine' &&
        state.status === 'ready' && (
          <p className="refresh-row">
            <button type="button" className="button button-secondary button-small" onClick={refresh}>
              Refresh
            </button>
          </p>
        )
      )}
      <ClassList state={state} q={q} onMore={state.more} retry={state.retry} />
    </Page>
  );
}

type ClassPageAnswer = Awaited<ReturnType<typeof fetchClasses>>;

function ClassList({
  state,
  q,
  onMore,
  retry,
}: {
  state: PagedState<ClassItem>;
  q: string;
  onMore: () => void;
  retry: () => void;
}) {
  if (state.status === 'idle') return null;
  if (state.status === 'loading') return <Loading label="Loading classes…" />;
  if (state.status === 'error' && !state.items.length) return <ErrorState error={state.error} retry={retry} />;
  return (
    <>
      <p className="muted" aria-live="polite">
        {state.items.length} class{state.items.length === 1 ? '' : 'es'} shown{q && <> matching “{q}”</>}
        {state.next ? ' — there are more.' : '.'}
      </p>
      {state.items.length === 0 && !state.next && (
        <Empty>
          <p>{q ? `No class matches “${q}”.` : 'No classes here yet.'}</p>
        </Empty>
      )}
      {state.items.length > 0 && (
        <ul className="cards">
          {state.items.map((c) => (
            <li key={c.id} className="card">
              <h2 className="card-title">
                {c.member === false ? (
                  c.display_name ?? 'Unnamed class'
                ) : (
                  <Link to={classPath(c.id)}>{c.display_name ?? 'Unnamed class'}</Link>
                )}
                {c.member === true && <span className="tag-member">You are in this class</span>}
              </h2>
              {c.member === false && (
                <p className="small">Only its teachers and students can open it. To join, ask one of its teachers.</p>
              )}
              <p className="muted">
                {[c.class_code, c.term?.display_name].filter(Boolean).join(' · ')}
                {c.teachers.length > 0 && (
                  <>
                    <br />
                    Taught by {c.teachers.map((t) => t.display_name ?? 'a teacher').join(', ')}
                  </>
                )}
              </p>
            </li>
          ))}
        </ul>
      )}
      {state.status === 'error' && <ErrorState error={state.error} />}
      {(state.next || state.status === 'loading-more') && (
        <button type="button" className="button button-secondary" onClick={onMore} disabled={state.status === 'loading-more'}>
          {state.status === 'loading-more' ? 'Loading more…' : 'See more'}
        </button>
      )}
    </>
  );
}
