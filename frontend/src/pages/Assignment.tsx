// One assignment: its details, files and links, and submissions. Teachers edit it, attach
// files (with upload progress) and links, publish (and see Microsoft's asynchronous publish
// finish), return or reassign submissions; a student adds files to their work, hands it in
// (submits) or takes it back (unsubmits).
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import {
  api,
  assignmentFileUrl,
  ok,
  submissionFileUrl,
  type AssignmentDetails,
  type Me,
  type Resource,
  type Submission,
  type SubmissionAction,
  type SubmissionResource,
} from '../api/client';
import { humanError } from '../api/errors';
import { assignmentQuery, classQuery, fetchAssignment, inAssignment, keys, submissionsQuery } from '../api/queries';
import { waitUntilPublished } from '../lib/publish';
import { formatWhen } from '../lib/time';
import { Link, classPath } from '../router';
import { Alert, Dialog, Empty, ErrorState, Field, Loading, Page, both, useLoad } from '../ui';
import { EditAssignmentForm } from './AssignmentEdit';
import { statusText, validLink } from './ClassAssignments';
import { FileUpload, type PendingUpload } from './FileUpload';
import { GradeCell, MyGrade, ReturnAllGraded, RubricBuilder, SubmissionCounts, useAssignmentRubric, useGradingFocus } from './Grading';
import { isLate } from '../lib/grading';

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

/**
 * An action's answer merged into the listed submission (the answer may lack the roster name,
 * and it never carries the files: those stay as listed).
 */
export function mergeSubmission(listed: Submission, answer: Partial<Submission>): Submission {
  const merged = { ...listed };
  for (const [k, v] of Object.entries(answer) as Array<[keyof Submission, unknown]>) {
    if (k === 'resources') continue;
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

/** A file just uploaded, shown in the submission's files until the next load reads it from Microsoft. */
export function addFile(s: Submission, r: Resource): Submission {
  if (s.resources.some((x) => x.id === r.id)) return s;
  return { ...s, resources: [...s.resources, { ...r, added_date_time: new Date().toISOString() }] };
}

const KIND_LABELS: Record<string, string> = {
  file: 'File',
  link: 'Link',
  word: 'Word document',
  excel: 'Excel workbook',
  powerpoint: 'PowerPoint',
  media: 'Media',
};

function Resources({ resources, empty }: { resources: Resource[]; empty: string }) {
  if (!resources.length) return <p className="muted">{empty}</p>;
  return (
    <ul className="resources">
      {resources.map((r) => (
        <li key={r.id}>
          <span className="badge">{KIND_LABELS[r.kind] ?? 'Resource'}</span>{' '}
          {openable(r) ? (
            <a href={openable(r)} target="_blank" rel="noopener noreferrer">
              {r.display_name ?? r.link ?? 'Untitled'}
            </a>
          ) : (
            <span>{r.display_name ?? 'Untitled'}</span>
          )}
          {r.kind !== 'link' && openable(r) && <span className="muted small"> · opens in Microsoft 365</span>}
        </li>
      ))}
    </ul>
  );
}

/**
 * Where a submission's file or link opens: an https link, or a file's address in Microsoft 365
 * as Microsoft gave it (http allowed there: the local emulator serves plain http).
 */
export function openable(r: Pick<SubmissionResource, 'link' | 'web_url'>): string | undefined {
  if (r.link) return /^https:\/\//i.test(r.link) ? r.link : undefined;
  return r.web_url && /^https?:\/\//i.test(r.web_url) ? r.web_url : undefined;
}

/** Bytes in words: "812 bytes", "4.2 KB", "3.1 MB". */
export function formatSize(n: number): string {
  if (n < 1024) return `${n} ${n === 1 ? 'byte' : 'bytes'}`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** The files and links on a submission, each with when it was added; links open in a new tab. */
function SubmissionFiles({ files, empty, label }: { files: SubmissionResource[]; empty: string; label: string }) {
  if (!files.length) return <span className="muted">{empty}</span>;
  return (
    <ul className="resources" aria-label={label}>
      {files.map((r) => (
        <li key={r.id}>
          <span className="badge">{KIND_LABELS[r.kind] ?? 'Resource'}</span>{' '}
          {openable(r) ? (
            <a href={openable(r)} target="_blank" rel="noopener noreferrer">
              {r.display_name ?? r.link}
            </a>
          ) : (
            <span>{r.display_name ?? 'Untitled'}</span>
          )}
          {typeof r.size === 'number' && <span className="muted"> · {formatSize(r.size)}</span>}
          {r.added_date_time && <span className="muted"> · added {formatWhen(r.added_date_time)}</span>}
        </li>
      ))}
    </ul>
  );
}

export function AssignmentPage({ id, aid }: { me: Me; id: string; aid: string }) {
  // The class comes from the class page's query when it was just open (no second Graph batch).
  const cls = useLoad(classQuery(id));
  const assignment = useLoad(assignmentQuery(id, aid));
  const subs = useLoad(submissionsQuery(id, aid));
  const data = both(cls, both(assignment, subs));
  const client = useQueryClient();
  const retry = () => {
    for (const part of [cls, assignment, subs]) if (part.status === 'error') part.reload();
  };
  /** After a change: the assignment and its submissions again, and the class's list of assignments. */
  const refresh = async () => {
    void client.invalidateQueries({ queryKey: keys.assignments(id), exact: true });
    await Promise.all([assignment.refresh(), subs.refresh()]);
  };
  const [busy, setBusy] = useState<string | null>(null);
  const [notice, setNotice] = useState<{ kind: 'success' | 'error' | 'info'; text: string }>();
  const [editing, setEditing] = useState(false);
  const [uploading, setUploading] = useState(false);
  const [publishing, setPublishing] = useState(false);
  const focus = useGradingFocus();
  const rubric = useAssignmentRubric(id, aid, cls.status === 'ready' && cls.data.my_role === 'teacher');
  const left = useRef(false);
  const pendingFile = useRef<PendingUpload | null>(null);
  const [confirmEmpty, setConfirmEmpty] = useState<Submission | null>(null);
  useEffect(() => {
    left.current = false;
    return () => {
      left.current = true;
    };
  }, []);

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
        <ErrorState error={data.error} retry={retry} />
        <p>
          <Link to={classPath(id, 'assignments')}>Back to the class</Link>
        </p>
      </Page>
    );
  }
  const [details, [a, submissions]] = data.data;
  const role = details.my_role;
  const className = details.class.display_name ?? 'Class';
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
  const setAssignment = (x: Partial<AssignmentDetails>) => {
    assignment.setData((d) => d && { ...d, ...x });
    void client.invalidateQueries({ queryKey: keys.assignments(id), exact: true });
  };

  const act = async (s: Submission, action: SubmissionAction, emptyConfirmed = false) => {
    setConfirmEmpty(null);
    setNotice(undefined);
    let files = s.resources.length;
    // Issue 16: a chosen file is attached before handing in; no file at all needs a "yes".
    if (action === 'submit' && !isTeacher) {
      const chosen = pendingFile.current;
      if (chosen) {
        setBusy(s.id);
        setNotice({ kind: 'info', text: `Attaching “${chosen.name}” first…` });
        const attached = await chosen.attach();
        if (!attached) {
          setBusy(null);
          setNotice({ kind: 'error', text: `“${chosen.name}” could not be attached, so your work was not handed in. See the message at the file.` });
          return;
        }
        files += 1;
      }
      if (files === 0 && !emptyConfirmed) {
        setBusy(null);
        setNotice(undefined);
        setConfirmEmpty(s);
        return;
      }
    }
    setBusy(s.id);
    try {
      const updated = await ok(
        api.POST('/api/classes/{id}/assignments/{aid}/submissions/{sid}/{action}', {
          params: { path: { id, aid, sid: s.id, action } },
        }),
      );
      subs.setData((xs) => xs.map((x) => (x.id === s.id ? mergeSubmission(x, updated) : x)));
      setNotice({ kind: 'success', text: isTeacher ? `${s.student_name ?? 'Student'}: ${ACTION_DONE[action]}` : ACTION_DONE[action] });
    } catch (err) {
      setNotice({ kind: 'error', text: humanError(err) });
    } finally {
      setBusy(null);
    }
  };
  const excuse = async (s: Submission) => {
    setBusy(s.id);
    setNotice(undefined);
    try {
      const r = await ok(
        api.POST('/api/classes/{class_id}/assignments/{assignment_id}/submissions/{submission_id}/excuse', {
          params: { path: { class_id: id, assignment_id: aid, submission_id: s.id } },
        }),
      );
      subs.setData((xs) => xs.map((x) => (x.id === s.id ? { ...x, status: r.status, draft_grade: null } : x)));
      setNotice({ kind: 'success', text: `${s.student_name ?? 'Student'}: excused from this assignment.` });
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
      const updated = await ok(api.POST('/api/classes/{id}/assignments/{aid}/publish', inAssignment(id, aid)));
      setAssignment(updated);
      if (updated.publishing) {
        setPublishing(true);
        setNotice({ kind: 'info', text: 'Microsoft 365 is publishing the assignment to the students…' });
        const last = await waitUntilPublished({
          get: () => fetchAssignment(id, aid),
          onUpdate: (x) => !left.current && setAssignment(x),
          cancelled: () => left.current,
        });
        if (left.current) return;
        setPublishing(false);
        if (last?.publishing) {
          setNotice({ kind: 'info', text: 'Microsoft 365 is still publishing. Reload the page in a minute to see it finished.' });
          return;
        }
      }
      setNotice({ kind: 'success', text: 'Published: students can see it now.' });
      await refresh();
    } catch (err) {
      setPublishing(false);
      setNotice({ kind: 'error', text: humanError(err) });
    } finally {
      setBusy(null);
    }
  };

  const mine = submissions[0];
  const emptyHandIn = confirmEmpty && (
    <div className="card draft-note" role="alertdialog" aria-labelledby="empty-hand-in" aria-describedby="empty-hand-in-text">
      <h2 id="empty-hand-in" className="section-title">Hand in without a file?</h2>
      <p id="empty-hand-in-text">Your work has no file or link. Your teacher will get nothing from you for this assignment.</p>
      <div className="actions">
        <button type="button" className="button" onClick={() => void act(confirmEmpty, 'submit', true)}>
          Yes, hand in without a file
        </button>
        <button type="button" className="button button-secondary" onClick={() => setConfirmEmpty(null)}>
          Cancel
        </button>
      </div>
    </div>
  );
  const turnedIn = mine?.status === 'submitted';

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
            {(publishing || a.publishing) && (
              <span className="publishing" role="status">
                {' '}
                <span className="spinner" aria-hidden="true" /> Microsoft 365 is still publishing it
              </span>
            )}
          </dd>
          <dt>Due</dt>
          <dd>{a.due_date_time ? formatWhen(a.due_date_time) : <span className="muted">No due date</span>}</dd>
          <dt>Grading</dt>
          <dd>{a.max_points != null ? `${a.max_points} points` : <span className="muted">No points</span>}</dd>
          {a.instructions && (
            <>
              <dt>Instructions</dt>
              <dd className="prewrap">{a.instructions}</dd>
            </>
          )}
        </dl>
        {isTeacher && (
          <div className="actions">
            <button type="button" className="button button-secondary" onClick={() => setEditing(true)}>
              Edit
            </button>
            {a.status === 'draft' && (
              <button
                type="button"
                className="button"
                onClick={publish}
                disabled={busy === 'publish' || uploading}
                aria-describedby={uploading ? 'publish-wait' : undefined}
              >
                {busy === 'publish' ? 'Publishing…' : 'Publish to students'}
              </button>
            )}
            {uploading && (
              <span id="publish-wait" className="muted">
                Publishing waits until the file is attached.
              </span>
            )}
          </div>
        )}
      </div>
      {notice && <Alert kind={notice.kind}>{notice.text}</Alert>}
      {emptyHandIn}
      <section aria-labelledby="materials" className="card">
        <h2 id="materials">Files and links</h2>
        <Resources resources={a.resources} empty={isTeacher ? 'Nothing attached yet.' : 'Your teacher attached nothing.'} />
        {isTeacher && (
          <FileUpload
            label="File for students"
            hint={
              a.status === 'draft'
                ? 'Attach files before you publish: students get what is attached when it is published. Up to 50 MB.'
                : 'Up to 50 MB.'
            }
            urlFor={(name) => assignmentFileUrl(id, aid, name)}
            onBusy={setUploading}
            onUploaded={(r) => assignment.setData((d) => d && { ...d, resources: [...d.resources, r] })}
          />
        )}
      </section>
      {isTeacher && <AddLink classId={id} aid={aid} onAdded={() => void refresh()} />}
      {isTeacher && rubric.data === null && <RubricBuilder classId={id} aid={aid} />}
      {isTeacher && rubric.data && (
        <p className="muted" data-testid="rubric-summary">
          Rubric: {rubric.data.display_name} ({rubric.data.qualities.length} qualities × {rubric.data.levels.length} levels)
        </p>
      )}
      <h2>{isTeacher ? 'Submissions' : 'Your work'}</h2>
      {isTeacher && submissions.length > 0 && (
        <>
          <SubmissionCounts subs={submissions} due={a.due_date_time} />
          <p className="hint">Type points, press Enter to save and go to the next student (Ctrl+Enter in feedback).</p>
          <ReturnAllGraded classId={id} aid={aid} onDone={() => void refresh()} />
        </>
      )}
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
                {isTeacher && <th scope="col">Files</th>}
                {isTeacher && <th scope="col">Grade</th>}
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {submissions.map((s, i) => (
                <tr key={s.id}>
                  {isTeacher && <td>{s.student_name ?? 'Unknown student'}</td>}
                  <td data-label="Status">
                    <span className={`badge badge-${s.status}`}>{statusText(s.status)}</span>
                  </td>
                  <td data-label="Handed in">
                    {s.submitted_date_time && s.status !== 'working' ? formatWhen(s.submitted_date_time) : '—'}
                    {s.status !== 'working' && s.status !== 'excused' && isLate(s.submitted_date_time, a.due_date_time) && (
                      <> <span className="badge badge-late">Late</span></>
                    )}
                  </td>
                  {isTeacher && (
                    <td data-label="Files">
                      <SubmissionFiles files={s.resources} empty="No files" label={`Files of ${s.student_name ?? 'student'}`} />
                    </td>
                  )}
                  {isTeacher && (
                    <td data-label="Grade">
                      {s.status === 'excused' ? (
                        <span className="muted">Excused</span>
                      ) : (
                        <GradeCell
                          classId={id}
                          aid={aid}
                          s={s}
                          maxPoints={a.max_points}
                          rubric={rubric.data}
                          pointsRef={focus.ref(i)}
                          onSaved={(x) => subs.setData((xs) => xs.map((y) => (y.id === x.id ? x : y)))}
                          onNext={() => focus.next(i, submissions.length)}
                        />
                      )}
                    </td>
                  )}
                  <td>
                    <div className="actions-cell">
                    {submissionActions(s.status, role).map((action) => (
                      <button
                        key={action}
                        type="button"
                        className={action === 'return' || action === 'submit' ? 'button button-small' : 'button button-secondary button-small'}
                        onClick={() => act(s, action)}
                        disabled={busy === s.id || (!isTeacher && uploading)}
                        aria-label={isTeacher ? `${ACTION_LABELS[action]}: ${s.student_name ?? 'student'}` : undefined}
                      >
                        {ACTION_LABELS[action]}
                      </button>
                    ))}
                    {isTeacher && s.status !== 'excused' && (
                      <button
                        type="button"
                        className="button button-secondary button-small"
                        onClick={() => excuse(s)}
                        disabled={busy === s.id}
                        aria-label={`Excuse: ${s.student_name ?? 'student'}`}
                      >
                        Excuse
                      </button>
                    )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {!isTeacher && mine?.returned_grade && (
        <MyGrade classId={id} aid={aid} grade={mine.returned_grade} maxPoints={a.max_points} />
      )}
      {!isTeacher && mine && (
        <section aria-labelledby="my-files" className="card">
          <h3 id="my-files">Your files</h3>
          {mine.resources.length > 0 ? (
            <SubmissionFiles files={mine.resources} empty="" label="Files in your work" />
          ) : (
            <p className="muted">No files yet. Files you add here go into your submission in Microsoft 365.</p>
          )}
          <FileUpload
            label="Add a file to your work"
            disabledReason={
              turnedIn
                ? 'Your work is handed in, so no files can be added. Choose “Take back” to add files, then hand it in again.'
                : undefined
            }
            hint="Add your files, then choose “Hand in”. Up to 50 MB each."
            urlFor={(name) => submissionFileUrl(id, aid, mine.id, name)}
            pending={pendingFile}
            onBusy={setUploading}
            onUploaded={(r) => subs.setData((xs) => xs.map((x) => (x.id === mine.id ? addFile(x, r) : x)))}
          />
        </section>
      )}
      {isTeacher && (
        <Dialog open={editing} title="Edit assignment" onClose={() => setEditing(false)}>
          <EditAssignmentForm
            classId={id}
            assignment={a}
            onCancel={() => setEditing(false)}
            onSaved={(x) => {
              setEditing(false);
              setAssignment(x);
              setNotice({ kind: 'success', text: 'Saved: the assignment is updated in Microsoft 365.' });
            }}
          />
        </Dialog>
      )}
    </Page>
  );
}

function AddLink({ classId, aid, onAdded }: { classId: string; aid: string; onAdded: () => void }) {
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
      await api.POST('/api/classes/{id}/assignments/{aid}/links', {
        ...inAssignment(classId, aid),
        body: { display_name: name.trim(), link: url.trim() },
      });
      setResult({ kind: 'success', text: `Link “${name.trim()}” added.` });
      onAdded();
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

