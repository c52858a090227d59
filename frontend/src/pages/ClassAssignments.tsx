// A class's assignments. Teachers create drafts (due date in their own time zone, links to
// resources), publish and delete them; everyone opens one to see its submissions.
import { useState, type FormEvent } from 'react';
import { api, assignmentFileUrl, csrfToken, ok, type Assignment, type ClassDetails } from '../api/client';
import { assignmentsQuery, byId, fetchAssignment, inAssignment } from '../api/queries';
import { humanError, messageFor } from '../api/errors';
import { waitUntilPublished } from '../lib/publish';
import { fileProblem, uploadFile } from '../lib/upload';
import { browserTimeZone, defaultDue, formatWhen, localToRfc3339 } from '../lib/time';
import { Link, assignmentPath } from '../router';
import { Alert, ConfirmButton, Dialog, Empty, Field, Loading, TextArea, useLoad } from '../ui';
import { PartUnavailable } from './stale';
import { EditAssignmentForm } from './AssignmentEdit';
import { UploadProgress, type UploadState } from './FileUpload';
import { GradebookLinks } from './Grading';
import { parseMaxPoints } from '../lib/grading';

export function statusText(status: string | null | undefined): string {
  switch (status) {
    case 'draft':
      return 'Draft';
    case 'published':
      return 'Publishing…';
    case 'assigned':
      return 'Published';
    case 'working':
      return 'Not handed in';
    case 'submitted':
      return 'Handed in';
    case 'returned':
      return 'Returned';
    case 'reassigned':
      return 'Sent back for changes';
    default:
      return status ? status[0]!.toUpperCase() + status.slice(1) : 'Unknown';
  }
}

export function ClassAssignments({ classId, d }: { classId: string; d: ClassDetails }) {
  const isTeacher = d.my_role === 'teacher';
  const list = useLoad(assignmentsQuery(classId));
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Assignment | null>(null);
  const [notice, setNotice] = useState<{ kind: 'success' | 'error' | 'info'; text: string }>();
  const [busy, setBusy] = useState<string | null>(null);

  const publish = async (a: Assignment) => {
    setBusy(a.id);
    setNotice(undefined);
    try {
      const updated = await ok(api.POST('/api/classes/{id}/assignments/{aid}/publish', inAssignment(classId, a.id)));
      const put = (u: Partial<Assignment>) => list.setData((xs) => xs.map((x) => (x.id === a.id ? { ...x, ...u } : x)));
      put(updated);
      if (updated.publishing) {
        setNotice({ kind: 'info', text: `Microsoft 365 is publishing “${a.display_name ?? 'the assignment'}”…` });
        const last = await waitUntilPublished({ get: () => fetchAssignment(classId, a.id), onUpdate: put });
        if (last?.publishing) {
          setNotice({ kind: 'info', text: 'Microsoft 365 is still publishing. Reload the page in a minute to see it finished.' });
          return;
        }
      }
      setNotice({ kind: 'success', text: `“${a.display_name ?? 'The assignment'}” is published: students can see it now.` });
    } catch (err) {
      setNotice({ kind: 'error', text: humanError(err) });
    } finally {
      setBusy(null);
    }
  };
  const remove = async (a: Assignment) => {
    setBusy(a.id);
    setNotice(undefined);
    try {
      await api.DELETE('/api/classes/{id}/assignments/{aid}', inAssignment(classId, a.id));
      list.setData((xs) => xs.filter((x) => x.id !== a.id));
      setNotice({ kind: 'success', text: `“${a.display_name ?? 'The assignment'}” was deleted.` });
    } catch (err) {
      setNotice({ kind: 'error', text: humanError(err) });
    } finally {
      setBusy(null);
    }
  };

  return (
    <>
      <div className="section-head">
        <h2>Assignments</h2>
        {isTeacher && (
          <button type="button" className="button" onClick={() => setCreating(true)}>
            New assignment
          </button>
        )}
      </div>
      {notice && <Alert kind={notice.kind}>{notice.text}</Alert>}
      {isTeacher && <GradebookLinks classId={classId} />}
      {list.status === 'loading' && <Loading label="Loading assignments…" />}
      {list.status === 'error' && <PartUnavailable what="The assignments" error={list.error} retry={list.reload} />}
      {list.status === 'ready' && !list.data.length && (
        <Empty>
          <p>{isTeacher ? 'No assignments yet. Create the first one.' : 'You have no assignments in this class.'}</p>
        </Empty>
      )}
      {list.status === 'ready' && list.data.length > 0 && (
        <ul className="cards">
          {list.data.map((a) => (
            <li key={a.id} className="card assignment">
              <h3 id={`assignment-${a.id}`}>
                <Link to={assignmentPath(classId, a.id)}>{a.display_name ?? 'Untitled assignment'}</Link>{' '}
                <span className={`badge badge-${a.status}`}>{statusText(a.status)}</span>
              </h3>
              <p className="muted">{a.due_date_time ? `Due ${formatWhen(a.due_date_time)}` : 'No due date'}</p>
              {isTeacher && (
                <div className="actions">
                  {a.status === 'draft' && (
                    <button type="button" className="button button-small" onClick={() => publish(a)} disabled={busy === a.id}>
                      {busy === a.id ? 'Publishing…' : 'Publish'}
                    </button>
                  )}
                  <button
                    type="button"
                    className="button button-secondary button-small"
                    onClick={() => setEditing(a)}
                    aria-describedby={`assignment-${a.id}`}
                  >
                    Edit
                  </button>
                  <Link to={assignmentPath(classId, a.id)} className="button button-secondary button-small">
                    Files and submissions
                  </Link>
                  <ConfirmButton
                    small
                    danger
                    label="Delete"
                    question={`Delete “${a.display_name ?? 'this assignment'}” and its submissions?`}
                    confirmLabel="Yes, delete"
                    onConfirm={() => remove(a)}
                    busy={busy === a.id}
                  />
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {isTeacher && (
        <Dialog open={editing !== null} title="Edit assignment" onClose={() => setEditing(null)}>
          {editing && (
            <EditAssignmentForm
              classId={classId}
              assignment={editing}
              onCancel={() => setEditing(null)}
              onSaved={(a) => {
                setEditing(null);
                list.setData((xs) => xs.map((x) => (x.id === a.id ? { ...x, ...a } : x)));
                setNotice({ kind: 'success', text: `“${a.display_name ?? 'The assignment'}” is saved.` });
              }}
            />
          )}
        </Dialog>
      )}
      {isTeacher && (
        <Dialog open={creating} title="New assignment" onClose={() => setCreating(false)}>
          <NewAssignmentForm
            classId={classId}
            onDone={(a, message) => {
              setCreating(false);
              setNotice({ kind: message ? 'error' : 'success', text: message ?? `“${a.display_name}” was created.` });
              list.setData((xs) => [a, ...xs.filter((x) => x.id !== a.id)]);
            }}
          />
        </Dialog>
      )}
    </>
  );
}

interface LinkRow {
  name: string;
  url: string;
}

export function validLink(l: LinkRow): 'required' | 'invalid_link' | undefined {
  if (!l.name.trim() && !l.url.trim()) return undefined; // an empty row is ignored
  if (!l.name.trim() || !l.url.trim()) return 'invalid_link';
  try {
    const u = new URL(l.url.trim());
    return u.protocol === 'https:' && u.hostname ? undefined : 'invalid_link';
  } catch {
    return 'invalid_link';
  }
}

function NewAssignmentForm({
  classId,
  onDone,
}: {
  classId: string;
  onDone: (a: Assignment, problem?: string) => void;
}) {
  const zone = browserTimeZone();
  const [name, setName] = useState('');
  const [instructions, setInstructions] = useState('');
  const [hasDue, setHasDue] = useState(true);
  const [due, setDue] = useState(defaultDue());
  const [links, setLinks] = useState<LinkRow[]>([{ name: '', url: '' }]);
  const [publishNow, setPublishNow] = useState(false);
  const [points, setPoints] = useState('100');
  const [errors, setErrors] = useState<{ name?: string; due?: string; points?: string; links?: Record<number, string> }>({});
  const [failure, setFailure] = useState<string>();
  const [progress, setProgress] = useState<string>();
  const [files, setFiles] = useState<File[]>([]);
  const [upload, setUpload] = useState<UploadState | null>(null);
  const fileProblems = files.map((f) => ({ f, problem: fileProblem(f) })).filter((x) => x.problem);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFailure(undefined);
    const found: typeof errors = {};
    if (!name.trim()) found.name = 'required';
    else if (Array.from(name.trim()).length > 256) found.name = 'invalid_assignment';
    const dueValue = hasDue ? localToRfc3339(due, zone) : undefined;
    if (hasDue && !dueValue) found.due = 'invalid_due_date';
    const maxPoints = parseMaxPoints(points);
    if (!maxPoints.ok) found.points = maxPoints.code;
    const linkErrors: Record<number, string> = {};
    links.forEach((l, i) => {
      const problem = validLink(l);
      if (problem) linkErrors[i] = problem;
    });
    if (Object.keys(linkErrors).length) found.links = linkErrors;
    setErrors(found);
    if (found.name || found.due || found.points || found.links || fileProblems.length || !maxPoints.ok) return;

    let created: Assignment;
    try {
      setProgress('Creating the assignment…');
      created = await ok(
        api.POST('/api/classes/{id}/assignments', {
          ...byId(classId),
          body: {
            display_name: name.trim(),
            instructions: instructions.trim() || null,
            due: dueValue ?? null,
            max_points: maxPoints.value,
          },
        }),
      );
    } catch (err) {
      setProgress(undefined);
      setFailure(humanError(err));
      return;
    }
    // The assignment exists now: later failures are reported, not retried blindly.
    const wanted = links.filter((l) => l.name.trim() && l.url.trim());
    for (const [i, l] of wanted.entries()) {
      setProgress(`Adding link ${i + 1} of ${wanted.length}…`);
      try {
        await api.POST('/api/classes/{id}/assignments/{aid}/links', {
          ...inAssignment(classId, created.id),
          body: { display_name: l.name.trim(), link: l.url.trim() },
        });
      } catch (err) {
        onDone(created, `The assignment was created as a draft, but the link “${l.name}” was not added: ${humanError(err)}`);
        return;
      }
    }
    // Files before publishing: students get what is attached when it is published.
    for (const [i, f] of files.entries()) {
      const name = f.name.trim();
      setProgress(`Attaching file ${i + 1} of ${files.length}…`);
      setUpload({ name, loaded: 0, total: f.size });
      try {
        await uploadFile({
          url: assignmentFileUrl(classId, created.id, name),
          body: f,
          csrf: csrfToken,
          onProgress: (loaded, total) => setUpload({ name, loaded, total }),
        });
      } catch (err) {
        onDone(created, `The assignment was created as a draft, but the file “${name}” was not attached: ${humanError(err)}`);
        return;
      }
    }
    setUpload(null);
    if (publishNow) {
      setProgress('Publishing…');
      try {
        created = { ...created, ...(await ok(api.POST('/api/classes/{id}/assignments/{aid}/publish', inAssignment(classId, created.id)))) };
        if (created.publishing) {
          setProgress('Microsoft 365 is publishing it…');
          const last = await waitUntilPublished({ get: () => fetchAssignment(classId, created.id), maxWaitMs: 20_000 });
          if (last) created = { ...created, ...last };
        }
      } catch (err) {
        onDone(created, `The assignment was created as a draft but not published: ${humanError(err)}`);
        return;
      }
    }
    onDone(created);
  };

  return (
    <form onSubmit={submit} noValidate>
      {failure && <Alert kind="error">{failure}</Alert>}
      <Field label="Name" name="assignment-name" autoFocus value={name} error={errors.name} maxLength={256} onChange={(e) => setName(e.target.value)} />
      <Field
        label="Points"
        name="max-points"
        inputMode="decimal"
        value={points}
        error={errors.points}
        hint="The most a student can get (decimals allowed). Leave empty for no grade."
        onChange={(e) => setPoints(e.target.value)}
      />
      <TextArea label="Instructions (optional)" rows={4} value={instructions} onChange={(e) => setInstructions(e.target.value)} />
      <div className="check">
        <input id="has-due" type="checkbox" checked={hasDue} onChange={(e) => setHasDue(e.target.checked)} />
        <label htmlFor="has-due">Has a due date</label>
      </div>
      {hasDue && (
        <Field
          label="Due"
          name="due"
          type="datetime-local"
          value={due}
          error={errors.due}
          hint={`In your time zone (${zone}). Students see it in theirs.`}
          onChange={(e) => setDue(e.target.value)}
        />
      )}
      <fieldset className="links">
        <legend>Links for students (optional)</legend>
        {links.map((l, i) => (
          <div key={i} className="link-row">
            <Field
              label={`Link ${i + 1} name`}
              value={l.name}
              onChange={(e) => setLinks(links.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)))}
            />
            <Field
              label={`Link ${i + 1} address`}
              type="url"
              inputMode="url"
              placeholder="https://"
              value={l.url}
              error={errors.links?.[i]}
              onChange={(e) => setLinks(links.map((x, j) => (j === i ? { ...x, url: e.target.value } : x)))}
            />
          </div>
        ))}
        <button type="button" className="button button-secondary button-small" onClick={() => setLinks([...links, { name: '', url: '' }])}>
          Add another link
        </button>
      </fieldset>
      <div className={fileProblems.length ? 'field field-invalid' : 'field'}>
        <label htmlFor="new-files">Files for students (optional)</label>
        <p className="hint" id="new-files-hint">
          Up to 50 MB each. They are attached before the assignment is published.
        </p>
        {fileProblems.map(({ f, problem }) => (
          <p key={f.name} className="field-error" id="new-files-error">
            {f.name}: {messageFor(problem!)}
          </p>
        ))}
        <input
          id="new-files"
          type="file"
          multiple
          aria-invalid={fileProblems.length ? true : undefined}
          aria-describedby={fileProblems.length ? 'new-files-hint new-files-error' : 'new-files-hint'}
          disabled={Boolean(progress)}
          onChange={(e) => setFiles(Array.from(e.target.files ?? []))}
        />
      </div>
      <div className="check">
        <input id="publish-now" type="checkbox" checked={publishNow} onChange={(e) => setPublishNow(e.target.checked)} />
        <label htmlFor="publish-now">Publish to students now (otherwise it stays a draft)</label>
      </div>
      {progress && <Loading label={progress} />}
      {upload && <UploadProgress upload={upload} label={`Uploading ${upload.name}`} />}
      <div className="actions">
        <button type="submit" className="button" disabled={Boolean(progress)}>
          Create assignment
        </button>
      </div>
    </form>
  );
}
