import type { Me, School } from '../api/client';
import { schoolsQuery } from '../api/queries';
import { Link, schoolPeoplePath } from '../router';
import { canSeeSchoolPeople } from './SchoolPeople';
import { Empty, ErrorState, Loading, Page, useLoad } from '../ui';

export function grades(s: Pick<School, 'lowest_grade' | 'highest_grade'>): string | undefined {
  const lo = s.lowest_grade?.trim();
  const hi = s.highest_grade?.trim();
  if (lo && hi) return lo === hi ? `Grade ${lo}` : `Grades ${lo}–${hi}`;
  return lo || hi ? `Grade ${lo || hi}` : undefined;
}

function SchoolList({ schools, people }: { schools: School[]; people: boolean }) {
  return (
    <ul className="cards">
      {schools.map((s) => (
        <li key={s.id} className="card">
          <h3>{s.display_name ?? 'Unnamed school'}</h3>
          <p className="muted">
            {[grades(s), s.principal_name ? `Principal: ${s.principal_name}` : undefined].filter(Boolean).join(' · ') ||
              'No details'}
          </p>
          <ul className="card-links">
            <li>
              <Link to={`/classes?scope=all&school=${encodeURIComponent(s.id)}`}>
                Classes of {s.display_name ?? 'this school'}
              </Link>
            </li>
            {people && (
              <li>
                <Link to={schoolPeoplePath(s.id)}>People of {s.display_name ?? 'this school'}</Link>
              </li>
            )}
          </ul>
        </li>
      ))}
    </ul>
  );
}

export function Schools({ me }: { me: Me }) {
  const data = useLoad(schoolsQuery());
  return (
    <Page title="Schools">
      {data.status === 'loading' && <Loading label="Loading schools…" />}
      {data.status === 'error' && <ErrorState error={data.error} retry={data.reload} />}
      {data.status === 'ready' &&
        (data.data.mine.length + data.data.others.length === 0 ? (
          <Empty>
            <p>Your school district has no schools in Microsoft 365 yet.</p>
          </Empty>
        ) : (
          <>
            <section aria-labelledby="my-schools">
              <h2 id="my-schools">Your schools</h2>
              {data.data.mine.length ? (
                <SchoolList schools={data.data.mine} people={canSeeSchoolPeople(me)} />
              ) : (
                <Empty>
                  <p>You are not a member of any school yet.</p>
                </Empty>
              )}
            </section>
            {data.data.others.length > 0 && (
              <section aria-labelledby="other-schools">
                <h2 id="other-schools">Other schools of your district</h2>
                <SchoolList schools={data.data.others} people={me.roles.includes('admin')} />
              </section>
            )}
          </>
        ))}
    </Page>
  );
}
