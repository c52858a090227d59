// A school's people with All / Teachers / Students tabs and "See more" (the API's opaque
// cursor, sealed to the person, school and tab). Teachers and admins only: Microsoft gives
// students no school roster, and the API answers them `role_required`, shown in words.
import { useEffect, useLayoutEffect, useState } from 'react';
import { api, ok, type Me, type PeopleTab, type SchoolPerson } from '../api/client';
import { keys, schoolsQuery } from '../api/queries';
import { isNotAllowed } from '../api/errors';
import { usePaged, type PagedState } from '../lib/paging';
import { Link, schoolPeoplePath, useNav } from '../router';
import { Alert, Avatar, Empty, ErrorState, Loading, Page, useLoad } from '../ui';

const TABS: Array<{ tab: PeopleTab; label: string }> = [
  { tab: 'all', label: 'All' },
  { tab: 'teachers', label: 'Teachers' },
  { tab: 'students', label: 'Students' },
];

/** The tab named in the address (`?tab=teachers`), `all` otherwise. */
export function peopleTab(search: string): PeopleTab {
  const t = new URLSearchParams(search).get('tab');
  return t === 'teachers' || t === 'students' ? t : 'all';
}

/** Whether a person's roles may open a school's people (the server checks too). */
export function canSeeSchoolPeople(me: Pick<Me, 'roles'>): boolean {
  return me.roles.includes('teacher') || me.roles.includes('admin');
}

/** Empty pages in a row that are followed without a click (the API filters a tab per page of Microsoft's). */
export const AUTO_FOLLOW_EMPTY = 3;

const ROLE_TEXT: Record<string, string> = { teacher: 'Teacher', student: 'Student' };

export function SchoolPeople({ id }: { me: Me; id: string }) {
  const { search } = useNav();
  const tab = peopleTab(search);
  const schools = useLoad(schoolsQuery());
  const school =
    schools.status === 'ready' ? [...schools.data.mine, ...schools.data.others].find((s) => s.id === id) : undefined;
  const name = school?.display_name ?? (schools.status === 'loading' ? 'School' : 'this school');
  const state = usePaged<SchoolPerson>(keys.schoolPeople(id, tab), (cursor) =>
    ok(api.GET('/api/schools/{id}/people', { params: { path: { id }, query: { role: tab, cursor: cursor ?? undefined } } })),
  );
  const { more } = state;
  const [followed, setFollowed] = useState(0);
  useLayoutEffect(() => setFollowed(0), [id, tab]);

  // A tab's first pages may hold nobody of that role while more exist: follow a few by itself.
  useEffect(() => {
    if (state.status === 'ready' && state.items.length === 0 && state.next && followed < AUTO_FOLLOW_EMPTY) {
      setFollowed((n) => n + 1);
      more();
    }
  });

  if (state.status === 'error' && isNotAllowed(state.error)) {
    return (
      <Page title="School people" narrow>
        <Alert kind="info">
          Only teachers and administrators can see who is in a school. Microsoft 365 does not give students a school’s list
          of people. Your classes show your classmates and teachers.
        </Alert>
        <p>
          <Link to="/classes">Go to your classes</Link>
        </p>
      </Page>
    );
  }

  return (
    <Page title={`People of ${name}`}>
      <p>
        <Link to="/schools">← Schools</Link>
      </p>
      <nav aria-label="Which people" className="tabs">
        {TABS.map((t) => (
          <Link key={t.tab} to={schoolPeoplePath(id, t.tab)} current={t.tab === tab}>
            {t.label}
          </Link>
        ))}
      </nav>
      <PeopleList state={state} tab={tab} onMore={more} retry={state.retry} />
    </Page>
  );
}

function PeopleList({
  state,
  tab,
  onMore,
  retry,
}: {
  state: PagedState<SchoolPerson>;
  tab: PeopleTab;
  onMore: () => void;
  retry: () => void;
}) {
  if (state.status === 'idle' || state.status === 'loading') return <Loading label="Loading people…" />;
  if (state.status === 'error' && !state.items.length) return <ErrorState error={state.error} retry={retry} />;
  const noun = tab === 'teachers' ? 'teacher' : tab === 'students' ? 'student' : 'person';
  const count = state.items.length;
  const plural = noun === 'person' ? (count === 1 ? 'person' : 'people') : `${noun}${count === 1 ? '' : 's'}`;
  return (
    <>
      <p className="muted" aria-live="polite">
        {count} {plural} shown{state.next ? ' — there are more.' : '.'}
      </p>
      {count === 0 && !state.next && (
        <Empty>
          <p>{tab === 'all' ? 'Nobody is in this school yet.' : `This school has no ${noun}s.`}</p>
        </Empty>
      )}
      {count > 0 && (
        <ul className="people school-people">
          {state.items.map((p) => (
            <li key={p.id} className="person">
              <Avatar personId={p.id} />
              <span>
                <strong>{p.display_name ?? 'Unnamed'}</strong>
                {ROLE_TEXT[p.role] && <span className={`badge badge-role-${p.role}`}>{ROLE_TEXT[p.role]}</span>}
                {p.mail && (
                  <>
                    <br />
                    <span className="muted small">{p.mail}</span>
                  </>
                )}
              </span>
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
