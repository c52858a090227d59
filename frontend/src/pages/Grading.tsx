// Grading (issue 15): the teacher's inline grading of submissions (keyboard-first: Enter saves
// and moves to the next student), "Return all graded" as a background job with progress and a
// result per student, the student's returned grade, the to-do list of the home page and the
// gradebook exports of a class.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { api, ok, type Schemas, type Submission } from '../api/client';
import { humanError, messageFor } from '../api/errors';
import { ApiError } from '../api/http';
import { countsText, nextIndex, parsePoints, parseRubric, pointsText, submissionCounts, todoStateText } from '../lib/grading';
import { formatWhen } from '../lib/time';
import { Link, assignmentPath } from '../router';
import { Alert, Field, Loading, TextArea } from '../ui';

type Grade = Schemas['GradeDto'];
type Rubric = Schemas['RubricDto'];
type ClassJob = Schemas['ClassJobDto'];
type Todo = Schemas['TodoDto'];

const rubricKey = (classId: string, aid: string) => ['classes', classId, 'assignments', aid, 'rubric'] as const;

/** The assignment's rubric; `null` when it has none. */
export function useAssignmentRubric(classId: string, aid: string, enabled: boolean) {
  return useQuery({
    queryKey: rubricKey(classId, aid),
    queryFn: () =>
      ok(
        api.GET('/api/classes/{class_id}/assignments/{assignment_id}/rubric', {
          params: { path: { class_id: classId, assignment_id: aid } },
        }),
      ).catch((e: unknown) => {
        if (e instanceof ApiError && e.code === 'not_found') return null;
        throw e;
      }),
    enabled,
  });
}

/** "Add a rubric": name, levels (one per line, `name: points`), qualities (`quality: criterion | …`). */
export function RubricBuilder({ classId, aid }: { classId: string; aid: string }) {
  const client = useQueryClient();
  const [name, setName] = useState('');
  const [levels, setLevels] = useState('Good: 2\nPoor: 1');
  const [qualities, setQualities] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const create = async () => {
    setError(undefined);
    const r = parseRubric(name, levels, qualities);
    if (!r.ok) {
      setError(messageFor(r.code));
      return;
    }
    setBusy(true);
    try {
      const created = await ok(
        api.POST('/api/classes/{class_id}/assignments/{assignment_id}/rubric', {
          params: { path: { class_id: classId, assignment_id: aid } },
          body: r.rubric,
        }),
      );
      client.setQueryData(rubricKey(classId, aid), created);
    } catch (err) {
      setError(humanError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <details className="card">
      <summary>Add a rubric</summary>
      <Field label="Rubric name" value={name} onChange={(e) => setName(e.target.value)} />
      <TextArea label="Levels" hint="One per line, best first: “Good: 2”, or without points for a credit rubric." rows={3} value={levels} onChange={(e) => setLevels(e.target.value)} />
      <TextArea
        label="Qualities"
        hint="One per line: “Method: clear steps | steps missing” — what each level looks like, in the order of the levels."
        rows={3}
        value={qualities}
        onChange={(e) => setQualities(e.target.value)}
      />
      {error && <Alert kind="error">{error}</Alert>}
      <button type="button" className="button" onClick={() => void create()} disabled={busy}>
        {busy ? 'Adding…' : 'Add rubric'}
      </button>
    </details>
  );
}

const inSubmission = (classId: string, aid: string, sid: string) => ({
  params: { path: { class_id: classId, assignment_id: aid, submission_id: sid } },
});

/** "Handed in x of y · late · returned · not handed in · excused". */
export function SubmissionCounts({ subs, due }: { subs: Submission[]; due: string | null | undefined }) {
  return (
    <p className="muted" data-testid="submission-counts">
      {countsText(submissionCounts(subs, due))}
    </p>
  );
}

/** One student's grade cell: points and feedback, saved with Enter (points) or Ctrl+Enter (feedback). */
export function GradeCell({
  classId,
  aid,
  s,
  maxPoints,
  rubric,
  pointsRef,
  onSaved,
  onNext,
}: {
  classId: string;
  aid: string;
  s: Submission;
  maxPoints: number | null | undefined;
  rubric?: Rubric | null;
  pointsRef: (el: HTMLElement | null) => void;
  onSaved: (s: Submission) => void;
  onNext: () => void;
}) {
  const draft = s.draft_grade;
  const [points, setPoints] = useState(draft?.points != null ? String(draft.points) : '');
  const [feedback, setFeedback] = useState(draft?.feedback ?? '');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const levelOf = (q: string | null | undefined) => draft?.rubric.find((p) => p.quality_id === q)?.level_id ?? '';
  const [picks, setPicks] = useState<Record<string, string>>({});
  const who = s.student_name ?? 'student';
  const graded = maxPoints != null;

  const save = async (andNext: boolean) => {
    setError(undefined);
    setSaved(false);
    const body: {
      points?: number | null;
      feedback?: string | null;
      rubric?: { qualities: Array<{ quality_id: string; level_id: string | null }> };
    } = {};
    if (graded) {
      const p = parsePoints(points, maxPoints);
      if (!p.ok) {
        setError(messageFor(p.code));
        return;
      }
      if (p.value !== (draft?.points ?? null)) body.points = p.value;
    }
    if (feedback.trim() !== (draft?.feedback ?? '').trim()) body.feedback = feedback.trim() || null;
    const changed = Object.entries(picks).filter(([q, l]) => l !== levelOf(q));
    if (changed.length) body.rubric = { qualities: changed.map(([q, l]) => ({ quality_id: q, level_id: l || null })) };
    if (Object.keys(body).length === 0) {
      if (andNext) onNext();
      return;
    }
    setBusy(true);
    try {
      const r = await ok(
        api.PATCH('/api/classes/{class_id}/assignments/{assignment_id}/submissions/{submission_id}/outcome', {
          ...inSubmission(classId, aid, s.id),
          body,
        }),
      );
      onSaved({ ...s, draft_grade: r.draft });
      setPicks({});
      setSaved(true);
      if (andNext) onNext();
    } catch (err) {
      setError(humanError(err));
    } finally {
      setBusy(false);
    }
  };
  const onKey = (e: KeyboardEvent<HTMLInputElement | HTMLTextAreaElement>, isPoints: boolean) => {
    if (e.key === 'Enter' && (isPoints || e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void save(true);
    }
  };
  return (
    <div className="grade-cell">
      {graded && (
        <label className="grade-points">
          <span className="visually-hidden">Points for {who}</span>
          <input
            ref={pointsRef}
            inputMode="decimal"
            size={5}
            value={points}
            aria-invalid={error ? true : undefined}
            onChange={(e) => setPoints(e.target.value)}
            onKeyDown={(e) => onKey(e, true)}
          />
          <span className="muted"> / {maxPoints}</span>
        </label>
      )}
      <label className="grade-feedback">
        <span className="visually-hidden">Feedback for {who}</span>
        <textarea
          ref={graded ? undefined : pointsRef}
          rows={2}
          placeholder="Feedback"
          value={feedback}
          onChange={(e) => setFeedback(e.target.value)}
          onKeyDown={(e) => onKey(e, false)}
        />
      </label>
      {rubric?.qualities.map((q) =>
        q.id ? (
          <label key={q.id} className="grade-level">
            <span className="visually-hidden">
              {q.name} for {who}
            </span>
            <span aria-hidden="true" className="muted">
              {q.name}:{' '}
            </span>
            <select value={picks[q.id] ?? levelOf(q.id)} onChange={(e) => setPicks({ ...picks, [q.id!]: e.target.value })}>
              <option value="">—</option>
              {rubric.levels.map((l) => (
                <option key={l.id ?? l.name} value={l.id ?? ''}>
                  {l.name}
                  {l.points != null ? ` (${l.points})` : ''}
                </option>
              ))}
            </select>
          </label>
        ) : null,
      )}
      <button type="button" className="button button-small" onClick={() => void save(false)} disabled={busy} aria-label={`Save grade: ${who}`}>
        {busy ? 'Saving…' : 'Save'}
      </button>
      {saved && <span className="muted" role="status"> Saved</span>}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      {s.returned_grade && (
        <p className="muted">
          Given back: {pointsText(s.returned_grade.points, maxPoints) || 'no points'}
          {s.returned_grade.feedback ? ` · “${s.returned_grade.feedback}”` : ''}
        </p>
      )}
    </div>
  );
}

/** The focus handles of the grading table: Enter in one row moves to the next row's points. */
export function useGradingFocus() {
  const refs = useRef<Array<HTMLElement | null>>([]);
  return {
    ref: (i: number) => (el: HTMLElement | null) => {
      refs.current[i] = el;
    },
    next: (i: number, count: number) => {
      const n = nextIndex(i, count);
      if (n >= 0) refs.current[n]?.focus();
    },
  };
}

/** "Return all graded": a background job, with its progress and a result per student. */
export function ReturnAllGraded({ classId, aid, onDone }: { classId: string; aid: string; onDone: () => void }) {
  const [job, setJob] = useState<ClassJob | null>(null);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const stopped = useRef(false);
  useEffect(
    () => () => {
      stopped.current = true;
    },
    [],
  );
  const start = async () => {
    setError(undefined);
    setBusy(true);
    try {
      const started = await ok(
        api.POST('/api/classes/{class_id}/assignments/{assignment_id}/return-graded', {
          params: { path: { class_id: classId, assignment_id: aid } },
        }),
      );
      let current: ClassJob = { ...started, items: [] };
      setJob(current);
      while (!stopped.current && (current.status === 'queued' || current.status === 'running')) {
        await new Promise((r) => setTimeout(r, 400));
        current = await ok(
          api.GET('/api/classes/{class_id}/jobs/{job_id}', { params: { path: { class_id: classId, job_id: started.id } } }),
        );
        setJob(current);
      }
      onDone();
    } catch (err) {
      setError(humanError(err));
    } finally {
      setBusy(false);
    }
  };
  const finished = job && (job.status === 'succeeded' || job.status === 'failed');
  const failed = job?.items.filter((i) => i.result !== 'done') ?? [];
  return (
    <div className="return-all">
      <button type="button" className="button" onClick={() => void start()} disabled={busy}>
        {busy ? 'Returning…' : 'Return all graded'}
      </button>
      {job && !finished && (
        <p role="status">
          Returning graded work… {job.done + job.failed} of {job.total}
        </p>
      )}
      {job && finished && (
        <Alert kind={job.failed || job.status === 'failed' ? 'error' : 'success'}>
          {job.total === 0
            ? 'Nothing to return: no graded work is waiting.'
            : `Returned ${job.done} of ${job.total} graded submissions${job.failed ? `; ${job.failed} failed` : ''}.`}
          {failed.length > 0 && (
            <ul>
              {failed.map((f) => (
                <li key={f.student_id}>
                  {f.student_name ?? f.student_id}: {f.error ?? 'failed'}
                </li>
              ))}
            </ul>
          )}
        </Alert>
      )}
      {error && <Alert kind="error">{error}</Alert>}
    </div>
  );
}

/** The grade, feedback and rubric given back to the student (never a draft). */
export function MyGrade({ classId, aid, grade, maxPoints }: { classId: string; aid: string; grade: Grade; maxPoints: number | null | undefined }) {
  const rubric = useQuery({
    queryKey: ['classes', classId, 'assignments', aid, 'rubric'],
    queryFn: () =>
      ok(api.GET('/api/classes/{class_id}/assignments/{assignment_id}/rubric', { params: { path: { class_id: classId, assignment_id: aid } } })),
    enabled: grade.rubric.length > 0,
  });
  return (
    <section aria-labelledby="my-grade" className="card">
      <h3 id="my-grade">Your grade</h3>
      <dl className="facts">
        {grade.points != null && (
          <>
            <dt>Points</dt>
            <dd data-testid="my-points">{pointsText(grade.points, maxPoints)}</dd>
          </>
        )}
        <dt>Feedback</dt>
        <dd className="prewrap" data-testid="my-feedback">
          {grade.feedback ?? <span className="muted">No written feedback.</span>}
        </dd>
      </dl>
      {grade.rubric.length > 0 && (rubric.data ? <RubricResult rubric={rubric.data} grade={grade} /> : <Loading label="Loading the rubric…" />)}
    </section>
  );
}

function RubricResult({ rubric, grade }: { rubric: Rubric; grade: Grade }) {
  return (
    <table className="table">
      <caption>Rubric: {rubric.display_name}</caption>
      <thead>
        <tr>
          <th scope="col">Quality</th>
          <th scope="col">Level</th>
          <th scope="col">Feedback</th>
        </tr>
      </thead>
      <tbody>
        {rubric.qualities.map((q) => {
          const pick = grade.rubric.find((p) => p.quality_id === q.id);
          const level = rubric.levels.find((l) => l.id === pick?.level_id);
          return (
            <tr key={q.id ?? q.name}>
              <td>{q.name}</td>
              <td>{level?.name ?? '—'}</td>
              <td>{pick?.feedback ?? ''}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** The home page's to-do list across classes. */
export function TodoList() {
  const todo = useQuery({ queryKey: ['me', 'assignments'], queryFn: () => ok(api.GET('/api/me/assignments')) });
  return (
    <section className="card" aria-labelledby="todo">
      <h2 id="todo">To do</h2>
      {todo.isPending ? (
        <Loading label="Loading your assignments…" />
      ) : todo.isError ? (
        <p className="muted">{humanError(todo.error)}</p>
      ) : (
        <TodoItems todo={todo.data} />
      )}
    </section>
  );
}

function TodoItems({ todo }: { todo: Todo }) {
  if (todo.items.length === 0) {
    return <p className="muted">{todo.role === 'teacher' ? 'Nothing waits to be graded.' : 'Nothing to do right now.'}</p>;
  }
  return (
    <ul className="todo" aria-label="To-do list">
      {todo.items.map((i) => (
        <li key={`${i.assignment_id}-${i.submission_id ?? ''}`} className={`todo-${i.state}`}>
          <span className={`badge badge-${i.state}`}>{todoStateText(i.state)}</span>{' '}
          {i.class_id ? <Link to={assignmentPath(i.class_id, i.assignment_id)}>{i.display_name ?? 'Assignment'}</Link> : i.display_name}
          {i.class_name && <span className="muted"> · {i.class_name}</span>}
          {i.due_date_time && <span className="muted"> · due {formatWhen(i.due_date_time)}</span>}
          {i.state === 'to_grade' && (
            <span>
              {' '}
              · {i.to_grade ?? 0} handed in to grade{i.graded_not_returned ? `, ${i.graded_not_returned} graded to return` : ''}
            </span>
          )}
          {i.grade && (
            <span data-testid="todo-grade">
              {' '}
              · {pointsText(i.grade.points, i.max_points) || 'returned'}
              {i.grade.feedback ? ` · “${i.grade.feedback}”` : ''}
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}

/** The class gradebook's downloads (teachers of the class). */
export function GradebookLinks({ classId }: { classId: string }) {
  const base = `/api/classes/${encodeURIComponent(classId)}/gradebook`;
  return (
    <p className="gradebook-links">
      Gradebook: <a href={`${base}?format=csv`} download>Download for Excel (CSV)</a> ·{' '}
      <a href={`${base}?format=oneroster`} download>
        OneRoster 1.2 export (zip)
      </a>
    </p>
  );
}
