// One assignment: its details and submissions. Teachers return or reassign submissions, add
// links and publish; a student hands in (submits) or takes back (unsubmits) their own work.
import { useState, type FormEvent } from 'react';
import { api, type Assignment, type Me, type Submission, type SubmissionAction } from '../api/client';
import { humanError } from '../api/errors';
import { ApiError } from '../api/http';
import { formatWhen } from '../lib/time';
import { Link, classPath } from '../router';
import { Alert, Empty, ErrorState, Field, Loading, Page, useLoad } from '../ui';
import { statusText, validLink } from './ClassAssignments';

/** Which actions a submission offers to whom (Graph refuses the others). */
export function submissionActions(status: string, role: string): SubmissionAction[] {
  if (role === 'student') {
    if (status === 'submitted') return ['unsubmit'];
    if (status === 'working' || status === 'returned' || status === 'reassigned') return ['submit'];
    return [];
  }
  if (role === 'teacher') {
    if (status === 'submitted') return ['return', 'reassign'];
    if (status === 'returned') return ['reassign'];
    return [];
  }
  return [];
}

/** An action's answer merged into the listed submission (the answer may lack the roster name). */
export function mergeSubmission(listed: Submission, answer: Partial<Submission>): Submission {
  const merged = { ...listed };
  for (const [k, v] of Object.entries(answer) as Array<[keyof Submission, unknown]>) {
    if (v !== null && v !== undefined) (merged as Record<string, unknown>)[k] = v;
  }
  return merged;
}

const ACTION_LABELS: Record<SubmissionAction, string> = {
  submit: 'Hand in',
  unsubmit: 'Take back',
  return: 'Return',
  reassign: 'Send back for changes',
};

const ACTION_DONE: Record<SubmissionAction, string> = {
  submit: 'Handed in.',
  unsubmit: 'Taken back: you can change your work and hand it in again.',
  return: 'Returned to the student.',
  reassign: 'Sent back to the student for changes.',
};

interface Loaded {
  role: string;
  className: string;
  assignment: Assignment | undefined;
  submissions: Submission[];
}

async function load(id: string, aid: string): Promise<Loaded> {
  const [details, list, submissions] = await Promise.all([
    api.classDetails(id),
    api.assignments(id),
    api.submissions(id, aid).catch((e: unknown) => {
      // A draft has no submissions yet (Microsoft answers 404 for them on some tenants).
      if (e instanceof ApiError && e.code === 'not_found') return [] as Submission[];
      throw e;
    }),
  ]);
  return {
    role: details.my_role,
    className: details.class.display_name ?? 'Class',
    assignment: list.find((a) => a.id === aid),
    submissions,
  };
}

export function AssignmentPage({ me, id, aid }: { me: Me; id: string; aid: string }) {
  const data = useLoad(() => load(id, aid), `${me.user.id}:${id}:${aid}`);
  const [busy, setBusy] = useState<string | null>(null);
  const [notice, setNotice] = useState<{ kind: 'success' | 'error'; text: string }>();

  if (data.status === 'loading') {
    return (
      <Page title="Assignment">
        <Loading label="Loading the assignment…" />
      </Page>
    );
  }
  if (data.status === 'error') {
    return (
      <Page title="Assignment">
        <ErrorState error={data.error} retry={data.reload} />
        <p>
          <Link to={classPath(id, 'assignments')}>Back to the class</Link>
        </p>
      </Page>
    );
  }
  const { role, className, assignment: a, submissions } = data.data;
  if (!a) {
    return (
      <Page title="Assignment not found" narrow>
        <p>This assignment does not exist (any more), or it is not assigned to you.</p>
        <p>
          <Link to={classPath(id, 'assignments')}>Back to {className}</Link>
        </p>
      </Page>
    );
  }
  const isTeacher = role === 'teacher';

  const act = async (s: Submission, action: SubmissionAction) => {
    setBusy(s.id);
    setNotice(undefined);
    try {
      const updated = await api.submissionAction(id, aid, s.id, action);
      data.setData((d) => ({ ...d, submissions: d.submissions.map((x) => (x.id === s.id ? mergeSubmission(x, updated) : x)) }));
      setNotice({ kind: 'success', text: isTeacher ? `${s.student_name ?? 'Student'}: ${ACTION_DONE[action]}` : ACTION_DONE[action] });
    } catch (err) {
      setNotice({ kind: 'error', text: humanError(err) });
    } finally {
      setBusy(null);
    }
  };
  const publish = async () => {
    setBusy('publish');
    setNotice(undefined);
    try {
      const updated = await api.publishAssignment(id, aid);
      data.setData((d) => ({ ...d, assignment: d.assignment && { ...d.assignment, ...updated } }));
      setNotice({ kind: 'success', text: 'Published: students can see it now.' });
      data.reload();
    } catch (err) {
      setNotice({ kind: 'error', text: humanError(err) });
    } finally {
      setBusy(null);
    }
  };

  return (
    <Page title={a.display_name ?? 'Assignment'}>
      <p>
        <Link to={classPath(id, 'assignments')}>← {className}: assignments</Link>
      </p>
      <div className="card">
        <dl className="facts">
          <dt>Status</dt>
          <dd>
            <span className={`badge badge-${a.status}`}>{statusText(a.status)}</span>
          </dd>
          <dt>Due</dt>
          <dd>{a.due_date_time ? formatWhen(a.due_date_time) : <span className="muted">No due date</span>}</dd>
          {a.instructions && (
            <>
              <dt>Instructions</dt>
              <dd className="prewrap">{a.instructions}</dd>
            </>
          )}
        </dl>
        {isTeacher && a.status === 'draft' && (
          <p>
            <button type="button" className="button" onClick={publish} disabled={busy === 'publish'}>
              {busy === 'publish' ? 'Publishing…' : 'Publish to students'}
            </button>
          </p>
        )}
      </div>
      {isTeacher && <AddLink classId={id} aid={aid} />}
      {notice && <Alert kind={notice.kind}>{notice.text}</Alert>}
      <h2>{isTeacher ? 'Submissions' : 'Your work'}</h2>
      {submissions.length === 0 ? (
        <Empty>
          <p>
            {isTeacher
              ? a.status === 'draft'
                ? 'Students get a submission when the assignment is published.'
                : 'No submissions yet.'
              : 'There is nothing to hand in for you here.'}
          </p>
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="table table-stack">
            <caption className="visually-hidden">{isTeacher ? 'Submissions by student' : 'Your submission'}</caption>
            <thead>
              <tr>
                {isTeacher && <th scope="col">Student</th>}
                <th scope="col">Status</th>
                <th scope="col">Handed in</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {submissions.map((s) => (
                <tr key={s.id}>
                  {isTeacher && <td>{s.student_name ?? 'Unknown student'}</td>}
                  <td data-label="Status">
                    <span className={`badge badge-${s.status}`}>{statusText(s.status)}</span>
                  </td>
                  <td data-label="Handed in">{s.submitted_date_time && s.status !== 'working' ? formatWhen(s.submitted_date_time) : '—'}</td>
                  <td>
                    <div className="actions-cell">
                    {submissionActions(s.status, role).map((action) => (
                      <button
                        key={action}
                        type="button"
                        className={action === 'return' || action === 'submit' ? 'button button-small' : 'button button-secondary button-small'}
                        onClick={() => act(s, action)}
                        disabled={busy === s.id}
                        aria-label={isTeacher ? `${ACTION_LABELS[action]}: ${s.student_name ?? 'student'}` : undefined}
                      >
                        {ACTION_LABELS[action]}
                      </button>
                    ))}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}

function AddLink({ classId, aid }: { classId: string; aid: string }) {
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [error, setError] = useState<string>();
  const [result, setResult] = useState<{ kind: 'success' | 'error'; text: string }>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setResult(undefined);
    const problem = name.trim() || url.trim() ? validLink({ name, url }) : 'invalid_link';
    setError(problem);
    if (problem) return;
    setBusy(true);
    try {
      await api.addLink(classId, aid, { display_name: name.trim(), link: url.trim() });
      setResult({ kind: 'success', text: `Link “${name.trim()}” added.` });
      setName('');
      setUrl('');
    } catch (err) {
      setResult({ kind: 'error', text: humanError(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <details className="card">
      <summary>Add a link for students</summary>
      <form onSubmit={submit} noValidate aria-label="Add a link">
        <Field label="Link name" value={name} onChange={(e) => setName(e.target.value)} />
        <Field label="Address" type="url" placeholder="https://" value={url} error={error} onChange={(e) => setUrl(e.target.value)} />
        {result && <Alert kind={result.kind}>{result.text}</Alert>}
        <div>
          <button type="submit" className="button" disabled={busy}>
            {busy ? 'Adding…' : 'Add link'}
          </button>
        </div>
      </form>
    </details>
  );
}

