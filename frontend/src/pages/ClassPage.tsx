// A class: its people (photos, favourite colours), seating chart, assignments, documents and
// conversations, as tabs (each tab has its own address); teachers also mail the class and add
// co-teachers. The class and its people load first (≤ 3 Microsoft Graph requests, none while the
// server's copy is fresh); each other tab reads its part when opened (issue 18 §2). When Microsoft
// 365 is not answering, the people come from the server's stored copy with a banner, and a tab
// without a stored copy says "not available right now" with Retry (R-C9).
import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import { Suspense, useState, type FormEvent } from 'react';
import { api, ok, type ClassDetails, type Me, type Member, type Schemas } from '../api/client';
import { byId, classConversationsQuery, classDocumentsQuery, classQuery, keys, refreshClass, schoolsQuery } from '../api/queries';
import { humanError, messageFor } from '../api/errors';
import { ApiError } from '../api/http';
import { formatWhen } from '../lib/time';
import { Link, classPath, type ClassTab } from '../router';
import { Alert, Avatar, Empty, ErrorState, Field, Loading, NotAllowed, Page, Swatch, TextArea, useLoad } from '../ui';
import { lazyComponent } from '../lib/lazyComponent';
import { PartUnavailable, StaleBanner } from './stale';

// The tabs other than People load their code when opened (the first tab needs none of it).
const ClassAssignments = lazyComponent(() => import('./ClassAssignments'), (m) => m.ClassAssignments, 'ClassAssignments');
const ClassMail = lazyComponent(() => import('./ClassMail'), (m) => m.ClassMail, 'ClassMail');
const SeatingChart = lazyComponent(() => import('./Seating'), (m) => m.SeatingChart, 'SeatingChart');

const TAB_LABELS: Record<ClassTab, string> = {
  students: 'People',
  seating: 'Seating chart',
  assignments: 'Assignments',
  documents: 'Documents',
  conversations: 'Conversations',
  mail: 'Send mail',
};

export function ClassPage({ me, id, tab }: { me: Me; id: string; tab: ClassTab }) {
  const details = useLoad(classQuery(id));
  const client = useQueryClient();
  const [refreshing, setRefreshing] = useState(false);
  const [refreshError, setRefreshError] = useState<unknown>();
  // "Refresh": the class and its people read from Microsoft again (the server rate-limits it).
  const refresh = () => {
    setRefreshing(true);
    setRefreshError(undefined);
    refreshClass(id).then(
      (fresh) => {
        client.setQueryData(keys.class(id), fresh);
        void client.invalidateQueries({ queryKey: keys.classDocuments(id) });
        void client.invalidateQueries({ queryKey: keys.classConversations(id) });
        setRefreshing(false);
      },
      (e: unknown) => {
        setRefreshError(e);
        setRefreshing(false);
      },
    );
  };
  if (details.status === 'loading') {
    return (
      <Page title="Class">
        <Loading label="Loading the class…" />
      </Page>
    );
  }
  if (details.status === 'error') {
    if (details.error instanceof ApiError && details.error.code === 'not_found') {
      return (
        <Page title="Class not found" narrow>
          <p>
            There is no such class, or you are not one of its teachers or students: only they can open a class. If you
            should be in it, ask one of its teachers or your school’s office to add you.
          </p>
          <ul className="shortcuts">
            <li>
              <Link to="/classes">Your classes</Link>
            </li>
            <li>
              <Link to="/classes?scope=all">All classes of a school</Link> — the ones you are in are marked
            </li>
            <li>
              <Link to="/">Home</Link>
            </li>
          </ul>
        </Page>
      );
    }
    return (
      <Page title="Class">
        <ErrorState error={details.error} retry={details.reload} />
      </Page>
    );
  }
  const d = details.data;
  const isTeacher = d.my_role === 'teacher';
  if (tab === 'mail' && !isTeacher) {
    return <NotAllowed what="Only this class's teachers can send mail to it." />;
  }
  const tabs: ClassTab[] = ['students', 'seating', 'assignments', 'documents', 'conversations'];
  if (isTeacher) tabs.push('mail');
  const name = d.class.display_name ?? 'Class';
  const setMembers = (f: (m: Member[]) => Member[]) => details.setData((x) => ({ ...x, members: f(x.members) }));

  return (
    <Page title={name}>
      <p className="muted class-meta">
        {[d.class.class_code, d.class.term?.display_name, roleText(d.my_role)].filter(Boolean).join(' · ')}
      </p>
      {d.class.description && <p>{d.class.description}</p>}
      {d.stale_as_of ? (
        <StaleBanner staleAsOf={d.stale_as_of} what="this class and its people" onRefresh={refresh} busy={refreshing} />
      ) : (
        <p className="refresh-row">
          <button type="button" className="button button-secondary button-small" onClick={refresh} disabled={refreshing}>
            {refreshing ? 'Refreshing…' : 'Refresh'}
          </button>
        </p>
      )}
      {refreshError !== undefined && <Alert kind="info">{humanError(refreshError)}</Alert>}
      <nav aria-label="Class sections" className="tabs">
        {tabs.map((t) => (
          <Link key={t} to={classPath(id, t)} current={t === tab}>
            {TAB_LABELS[t]}
          </Link>
        ))}
      </nav>
      <section aria-label={TAB_LABELS[tab]} className="tab-panel">
        <Suspense fallback={<Loading />}>
        {tab === 'students' && <People d={d} isTeacher={isTeacher} classId={id} onChanged={() => void details.refresh()} />}
        {tab === 'seating' && <SeatingChart me={me} d={d} classId={id} setMembers={setMembers} />}
        {tab === 'assignments' && <ClassAssignments classId={id} d={d} />}
        {tab === 'documents' && <Documents classId={id} />}
        {tab === 'conversations' && <Conversations classId={id} />}
        {tab === 'mail' && <ClassMail classId={id} d={d} />}
        </Suspense>
      </section>
    </Page>
  );
}

function roleText(role: string): string {
  return role === 'teacher' ? 'You teach this class' : role === 'student' ? 'You are a student here' : 'You see it as an admin';
}

function PersonRow({ m }: { m: Member }) {
  const name = m.display_name ?? 'Unnamed person';
  return (
    <li className="person">
      <Avatar personId={m.id} />
      <span className="person-name">{name}</span>
      {m.favorite_color && (
        <span className="person-color">
          <Swatch color={m.favorite_color} label={`${name}'s favourite colour ${m.favorite_color}`} />
        </span>
      )}
    </li>
  );
}

function People({ d, isTeacher, classId, onChanged }: { d: ClassDetails; isTeacher: boolean; classId: string; onChanged: () => void }) {
  const teachers = d.members.filter((m) => m.role === 'teacher');
  const students = d.members.filter((m) => m.role === 'student');
  return (
    <>
      <h2>Teachers</h2>
      {teachers.length ? (
        <ul className="people">{teachers.map((m) => <PersonRow key={m.id} m={m} />)}</ul>
      ) : (
        <Empty>
          <p>This class has no teacher yet.</p>
        </Empty>
      )}
      {isTeacher && <AddCoTeacher classId={classId} current={teachers.map((t) => t.id)} onAdded={onChanged} />}
      <h2>
        Students <span className="muted">({students.length})</span>
      </h2>
      {students.length ? (
        <ul className="people">{students.map((m) => <PersonRow key={m.id} m={m} />)}</ul>
      ) : (
        <Empty>
          <p>No students are enrolled in this class yet.</p>
        </Empty>
      )}
    </>
  );
}

/**
 * Teachers the person can see: those of their own classes and of the classes listed for their
 * schools (Microsoft shows a teacher the teachers of their own classes only). Anyone else is
 * added by their Microsoft 365 object id.
 */
type SchoolPerson = Schemas['SchoolPersonDto'];

/** The teachers of the caller's schools (issue 16: co-teachers are chosen by name from the
 * school's teachers, never by object id), a few pages per school, sorted by name. */
async function teacherCandidates(client: QueryClient): Promise<SchoolPerson[]> {
  const schools = await client.fetchQuery(schoolsQuery());
  const byId = new Map<string, SchoolPerson>();
  for (const school of schools.mine.slice(0, 3)) {
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const answer = await ok(
        api.GET('/api/schools/{id}/people', { params: { path: { id: school.id }, query: { role: 'teachers', cursor } } }),
      );
      for (const p of answer.items) byId.set(p.id, p);
      cursor = answer.next_cursor ?? undefined;
      if (!cursor) break;
    }
  }
  return [...byId.values()].sort((a, b) => (a.display_name ?? '').localeCompare(b.display_name ?? ''));
}

/** Pasted emails matched to teachers (case-insensitive); the others are returned by themselves. */
export function matchEmails(text: string, teachers: Pick<SchoolPerson, 'id' | 'mail'>[]): { ids: string[]; unknown: string[] } {
  const ids: string[] = [];
  const unknown: string[] = [];
  for (const raw of text.split(/[\s,;]+/)) {
    const email = raw.trim().toLowerCase();
    if (!email) continue;
    const t = teachers.find((x) => x.mail?.toLowerCase() === email);
    if (t) {
      if (!ids.includes(t.id)) ids.push(t.id);
    } else unknown.push(raw.trim());
  }
  return { ids, unknown };
}

function AddCoTeacher({ classId, current, onAdded }: { classId: string; current: string[]; onAdded: () => void }) {
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  const [candidates, setCandidates] = useState<SchoolPerson[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>();
  const [filter, setFilter] = useState('');
  const [picked, setPicked] = useState<string[]>([]);
  const [pasted, setPasted] = useState('');
  const [pasteError, setPasteError] = useState<string>();
  const [unknown, setUnknown] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ kind: 'success' | 'error'; text: string }>();

  const start = () => {
    setOpen(true);
    setLoadError(undefined);
    teacherCandidates(client).then(setCandidates, setLoadError);
  };
  const available = (candidates ?? []).filter((c) => !current.includes(c.id));
  const needle = filter.trim().toLowerCase();
  const shown = available
    .filter((c) => !needle || (c.display_name ?? '').toLowerCase().includes(needle) || (c.mail ?? '').toLowerCase().includes(needle))
    .slice(0, 30);
  const nameOf = (id: string) => candidates?.find((c) => c.id === id)?.display_name ?? 'The teacher';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setResult(undefined);
    const fromPaste = matchEmails(pasted, available);
    setPasteError(fromPaste.unknown.length ? 'not_a_school_teacher' : undefined);
    setUnknown(fromPaste.unknown);
    if (fromPaste.unknown.length) return;
    const ids = [...new Set([...picked, ...fromPaste.ids])];
    if (!ids.length) {
      setResult({ kind: 'error', text: 'Choose at least one teacher: find them by name, or paste their emails.' });
      return;
    }
    setBusy(true);
    const added: string[] = [];
    const failed: string[] = [];
    for (const teacherId of ids) {
      try {
        await ok(api.POST('/api/classes/{id}/teachers', { ...byId(classId), body: { teacher_id: teacherId } }));
        added.push(nameOf(teacherId));
      } catch (err) {
        const code = err instanceof ApiError && err.code === 'not_found' ? 'not_a_teacher' : undefined;
        failed.push(`${nameOf(teacherId)}: ${code ? messageFor(code) : humanError(err)}`);
      }
    }
    setBusy(false);
    setPicked([]);
    setPasted('');
    if (added.length) onAdded();
    setResult(
      failed.length
        ? { kind: 'error', text: [added.length ? `${added.join(', ')} now teach${added.length === 1 ? 'es' : ''} this class too.` : '', ...failed].filter(Boolean).join(' ') }
        : { kind: 'success', text: `${added.join(', ')} now teach${added.length === 1 ? 'es' : ''} this class too.` },
    );
  };

  if (!open) {
    return (
      <p>
        <button type="button" className="button button-secondary" onClick={start}>
          Add a co-teacher
        </button>
      </p>
    );
  }
  return (
    <form className="card inline-form" onSubmit={submit} aria-label="Add a co-teacher" noValidate>
      {loadError !== undefined && <ErrorState error={loadError} retry={start} />}
      {candidates === null && loadError === undefined && <Loading label="Finding the teachers of your school…" />}
      {candidates !== null && (
        <>
          <Field
            label="Find a teacher of your school"
            hint="Type part of a name or an email; tick one or several."
            type="search"
            value={filter}
            autoComplete="off"
            onChange={(e) => setFilter(e.target.value)}
          />
          {available.length === 0 ? (
            <p className="muted">Every teacher of your school already teaches this class.</p>
          ) : (
            <fieldset className="checklist">
              <legend>Teachers of your school{needle ? ` matching “${filter.trim()}”` : ''}</legend>
              {shown.length === 0 && <p className="muted">No teacher matches “{filter.trim()}”.</p>}
              {shown.map((c) => (
                <label key={c.id} className="check-row">
                  <input
                    type="checkbox"
                    checked={picked.includes(c.id)}
                    onChange={(e) => setPicked((p) => (e.target.checked ? [...p, c.id] : p.filter((x) => x !== c.id)))}
                  />
                  <span className="break-anywhere">
                    {c.display_name ?? 'Unnamed teacher'}
                    {c.mail && <span className="muted small"> · {c.mail}</span>}
                  </span>
                </label>
              ))}
            </fieldset>
          )}
          <TextArea
            label="Or paste their emails"
            rows={2}
            value={pasted}
            error={pasteError}
            hint={unknown.length ? `Not found: ${unknown.slice(0, 3).join(', ')}${unknown.length > 3 ? '…' : ''}` : 'One a line, or separated by commas.'}
            onChange={(e) => {
              setPasted(e.target.value);
              setPasteError(undefined);
            }}
          />
        </>
      )}
      {result && <Alert kind={result.kind}>{result.text}</Alert>}
      <div className="actions">
        <button type="submit" className="button" disabled={busy || candidates === null}>
          {busy ? 'Adding…' : picked.length > 1 ? `Add ${picked.length} co-teachers` : 'Add co-teacher'}
        </button>
        <button type="button" className="button button-secondary" onClick={() => setOpen(false)}>
          Close
        </button>
      </div>
    </form>
  );
}

/** Microsoft's system folder for handed-in work ("Submitted files - <guid>") gets a plain name. */
export function documentName(name: string | null | undefined): string {
  if (!name) return 'Untitled';
  return /^Submitted files - [0-9a-f-]{36}$/i.test(name) ? 'Handed-in work (kept by Microsoft 365)' : name;
}

function Documents({ classId }: { classId: string }) {
  const part = useLoad(classDocumentsQuery(classId));
  if (part.status === 'loading') return <Loading label="Loading the documents…" />;
  if (part.status === 'error') return <PartUnavailable what="The class documents" error={part.error} retry={part.reload} />;
  const docs = part.data;
  if (!docs.length) {
    return (
      <Empty>
        <p>No documents in this class’s files yet.</p>
      </Empty>
    );
  }
  return (
    <ul className="list">
      {docs.map((doc) => (
        <li key={doc.id}>
          {doc.web_url && /^https?:\/\//i.test(doc.web_url) ? (
            <a href={doc.web_url} target="_blank" rel="noreferrer noopener">
              {documentName(doc.name)} <span className="visually-hidden">(opens Microsoft 365 in a new tab)</span>
            </a>
          ) : (
            <span>{documentName(doc.name)}</span>
          )}
          <span className="muted">
            {' '}
            {[doc.last_modified_by && `changed by ${doc.last_modified_by}`, doc.last_modified_date_time && formatWhen(doc.last_modified_date_time)]
              .filter(Boolean)
              .join(', ')}
          </span>
        </li>
      ))}
    </ul>
  );
}

function Conversations({ classId }: { classId: string }) {
  const part = useLoad(classConversationsQuery(classId));
  if (part.status === 'loading') return <Loading label="Loading the conversations…" />;
  if (part.status === 'error') return <PartUnavailable what="The conversations" error={part.error} retry={part.reload} />;
  const list = part.data;
  if (!list.length) {
    return (
      <Empty>
        <p>No conversations in this class yet.</p>
      </Empty>
    );
  }
  return (
    <ul className="list">
      {list.map((c) => (
        <li key={c.id}>
          <strong>{c.topic ?? '(no topic)'}</strong>
          {c.last_delivered_date_time && <span className="muted"> · {formatWhen(c.last_delivered_date_time)}</span>}
          {c.preview && <p className="preview">{c.preview}</p>}
        </li>
      ))}
    </ul>
  );
}
