// The "Edit assignment" dialog's form: name, instructions and due date/time in the person's
// time zone. Only what changed is sent (PATCH); Microsoft's refusal in the assignment's
// state (`assignment_not_editable`) is shown in the dialog, with nothing changed.
import { useState, type FormEvent } from 'react';
import { api, ok, type Assignment } from '../api/client';
import { humanError } from '../api/errors';
import { ApiError } from '../api/http';
import { assignmentPatch } from '../lib/assignmentForm';
import { browserTimeZone, utcToLocalInput } from '../lib/time';
import { Alert, Field, TextArea, focusFirstInvalid } from '../ui';

export function EditAssignmentForm({
  classId,
  assignment,
  onSaved,
  onCancel,
}: {
  classId: string;
  assignment: Assignment;
  onSaved: (a: Assignment) => void;
  onCancel: () => void;
}) {
  const zone = browserTimeZone();
  const [name, setName] = useState(assignment.display_name ?? '');
  const [instructions, setInstructions] = useState(assignment.instructions ?? '');
  const [due, setDue] = useState(utcToLocalInput(assignment.due_date_time, zone) ?? '');
  const [points, setPoints] = useState(assignment.max_points != null ? String(assignment.max_points) : '');
  const [errors, setErrors] = useState<{ name?: string; due?: string; points?: string }>({});
  const [failure, setFailure] = useState<{ text: string; refused: boolean }>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    setFailure(undefined);
    const r = assignmentPatch(assignment, { name, instructions, due, points }, zone);
    if (!r.ok) {
      setErrors(r.errors);
      requestAnimationFrame(() => focusFirstInvalid(form));
      return;
    }
    setErrors({});
    if (r.empty) {
      setFailure({ text: 'Nothing changed: edit the name, the instructions, the due date or the points first.', refused: false });
      return;
    }
    setBusy(true);
    try {
      onSaved(
        await ok(
          api.PATCH('/api/classes/{id}/assignments/{aid}', {
            params: { path: { id: classId, aid: assignment.id } },
            body: r.patch,
          }),
        ),
      );
    } catch (err) {
      setFailure({
        text: humanError(err),
        refused: err instanceof ApiError && err.code === 'assignment_not_editable',
      });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate aria-label="Edit assignment">
      {failure && (
        <Alert kind="error">
          {failure.refused && <strong>Not saved. </strong>}
          {failure.text}
        </Alert>
      )}
      <Field
        label="Name"
        name="assignment-name"
        autoFocus
        value={name}
        error={errors.name}
        maxLength={256}
        onChange={(e) => setName(e.target.value)}
      />
      <TextArea label="Instructions" rows={4} value={instructions} onChange={(e) => setInstructions(e.target.value)} />
      <Field
        label="Due"
        name="due"
        type="datetime-local"
        value={due}
        error={errors.due}
        hint={`In your time zone (${zone}). Students see it in theirs.`}
        onChange={(e) => setDue(e.target.value)}
      />
      <Field
        label="Points"
        name="max-points"
        inputMode="decimal"
        value={points}
        error={errors.points}
        hint="The most a student can get. Leave empty for no grade."
        onChange={(e) => setPoints(e.target.value)}
      />
      <div className="actions">
        <button type="submit" className="button" disabled={busy}>
          {busy ? 'Saving…' : 'Save changes'}
        </button>
        <button type="button" className="button button-secondary" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
