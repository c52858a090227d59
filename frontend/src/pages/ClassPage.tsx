// A class: its people (photos, favourite colours), seating chart, assignments, documents and
// conversations, as tabs (each tab has its own address); teachers also mail the class and add
// co-teachers. One API call loads the page; a part Microsoft refused shows its own error.
import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, type ClassDetails, type Me, type Member, type Schemas } from '../api/client';
import { byId, classQuery, fetchClasses, schoolsQuery } from '../api/queries';
import { humanError, messageFor } from '../api/errors';
import { ApiError } from '../api/http';
import { formatWhen } from '../lib/time';
import { Link, classPath, type ClassTab } from '../router';
import { Alert, Avatar, Empty, ErrorState, Field, Loading, NotAllowed, Page, Swatch, useLoad } from '../ui';
import { ClassAssignments } from './ClassAssignments';
import { ClassMail } from './ClassMail';
import { SeatingChart } from './Seating';

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
      <nav aria-label="Class sections" className="tabs">
        {tabs.map((t) => (
          <Link key={t} to={classPath(id, t)} current={t === tab}>
            {TAB_LABELS[t]}
          </Link>
        ))}
      </nav>
      <section aria-label={TAB_LABELS[tab]} className="tab-panel">
        {tab === 'students' && <People d={d} isTeacher={isTeacher} classId={id} onChanged={() => void details.refresh()} />}
        {tab === 'seating' && <SeatingChart me={me} d={d} classId={id} setMembers={setMembers} />}
        {tab === 'assignments' && <ClassAssignments classId={id} d={d} />}
        {tab === 'documents' && <Documents d={d} />}
        {tab === 'conversations' && <Conversations d={d} />}
        {tab === 'mail' && <ClassMail classId={id} d={d} />}
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

type Person = Schemas['PersonDto'];

/**
 * Teachers the person can see: those of their own classes and of the classes listed for their
 * schools (Microsoft shows a teacher the teachers of their own classes only). Anyone else is
 * added by their Microsoft 365 object id.
 */
async function teacherCandidates(client: QueryClient): Promise<Person[]> {
  const [mine, schools] = await Promise.all([fetchClasses({ scope: 'mine' }), client.fetchQuery(schoolsQuery())]);
  const list = schools.mine.slice(0, 3);
  const pages = [mine, ...(await Promise.all(list.map((s) => fetchClasses({ scope: 'all', school_id: s.id }))))];
  const byId = new Map<string, Person>();
  for (const page of pages) for (const c of page.items) for (const t of c.teachers) byId.set(t.id, t);
  return [...byId.values()].sort((a, b) => (a.display_name ?? '').localeCompare(b.display_name ?? ''));
}

const OTHER = '__other__';

function AddCoTeacher({ classId, current, onAdded }: { classId: string; current: string[]; onAdded: () => void }) {
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  const [candidates, setCandidates] = useState<Person[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>();
  const [choice, setChoice] = useState('');
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ kind: 'success' | 'error'; text: string }>();

  const start = () => {
    setOpen(true);
    setLoadError(undefined);
    teacherCandidates(client).then(setCandidates, setLoadError);
  };
  const available = (candidates ?? []).filter((c) => !current.includes(c.id));
  const manual = choice === OTHER || (candidates !== null && !available.length);
  const teacherId = manual ? typed.trim() : choice;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!teacherId) {
      setResult({ kind: 'error', text: manual ? "Enter the teacher's Microsoft 365 object id." : 'Choose a teacher first.' });
      return;
    }
    setBusy(true);
    setResult(undefined);
    try {
      await api.POST('/api/classes/{id}/teachers', { ...byId(classId), body: { teacher_id: teacherId } });
      const who = candidates?.find((c) => c.id === teacherId)?.display_name ?? 'The teacher';
      setResult({ kind: 'success', text: `${who} now teaches this class too.` });
      setChoice('');
      setTyped('');
      onAdded();
    } catch (err) {
      // An id that is not a Graph id at all answers not_found: it is not a teacher either.
      const code = err instanceof ApiError && err.code === 'not_found' ? 'not_a_teacher' : undefined;
      setResult({ kind: 'error', text: code ? messageFor(code) : humanError(err) });
    } finally {
      setBusy(false);
    }
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
      {candidates === null && loadError === undefined && <Loading label="Finding the teachers you work with…" />}
      {candidates !== null && available.length > 0 && (
        <div className="field">
          <label htmlFor="co-teacher">Teacher to add</label>
          <select id="co-teacher" value={choice} onChange={(e) => setChoice(e.target.value)}>
            <option value="">Choose a teacher…</option>
            {available.map((c) => (
              <option key={c.id} value={c.id}>
                {c.display_name ?? c.id}
              </option>
            ))}
            <option value={OTHER}>Someone else (by Microsoft 365 object id)</option>
          </select>
        </div>
      )}
      {manual && (
        <Field
          label="Teacher's Microsoft 365 object id"
          hint="Your administrator can find it in the Microsoft 365 admin center (Users → the teacher → Object ID)."
          value={typed}
          spellCheck={false}
          autoComplete="off"
          onChange={(e) => setTyped(e.target.value)}
        />
      )}
      {result && <Alert kind={result.kind}>{result.text}</Alert>}
      <div className="actions">
        <button type="submit" className="button" disabled={busy}>
          {busy ? 'Adding…' : 'Add co-teacher'}
        </button>
        <button type="button" className="button button-secondary" onClick={() => setOpen(false)}>
          Close
        </button>
      </div>
    </form>
  );
}

/** A part of the class page Microsoft refused (e.g. documents 403), in words. */
function PartFailure({ error, what }: { error: Schemas['PartError']; what: string }) {
  return (
    <Alert kind="error">
      {what} could not be loaded: {messageFor(error.code, error.message)}
      {error.graph?.request_id && <span className="detail">Microsoft Graph request id {error.graph.request_id}</span>}
    </Alert>
  );
}

/** Microsoft's system folder for handed-in work ("Submitted files - <guid>") gets a plain name. */
export function documentName(name: string | null | undefined): string {
  if (!name) return 'Untitled';
  return /^Submitted files - [0-9a-f-]{36}$/i.test(name) ? 'Handed-in work (kept by Microsoft 365)' : name;
}

function Documents({ d }: { d: ClassDetails }) {
  if (d.documents_error) return <PartFailure error={d.documents_error} what="The class documents" />;
  const docs = d.documents ?? [];
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

function Conversations({ d }: { d: ClassDetails }) {
  if (d.conversations_error) return <PartFailure error={d.conversations_error} what="The conversations" />;
  const list = d.conversations ?? [];
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
