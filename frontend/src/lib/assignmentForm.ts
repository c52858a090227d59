// The assignment edit dialog's logic: what changed, as a PATCH body (only the fields given
// change), or the problems to show next to the fields.
import { parseMaxPoints } from './grading';
import { localToRfc3339 } from './time';

export interface AssignmentFields {
  display_name?: string | null;
  instructions?: string | null;
  due_date_time?: string | null;
  max_points?: number | null;
}

export interface EditForm {
  name: string;
  instructions: string;
  /** A `datetime-local` value in `zone`, or '' for none. */
  due: string;
  /** Maximum points as typed ('' for no grade); absent: not edited. */
  points?: string;
}

export type Patch = { display_name?: string; instructions?: string; due?: string; max_points?: number | null };

export type EditResult =
  | { ok: true; patch: Patch; empty: boolean }
  | { ok: false; errors: { name?: string; due?: string; points?: string } };

/** The PATCH body for the fields that differ from `original`, with the due time in `zone`'s offset. */
export function assignmentPatch(original: AssignmentFields, form: EditForm, zone: string): EditResult {
  const errors: { name?: string; due?: string; points?: string } = {};
  const name = form.name.trim();
  if (!name) errors.name = 'required';
  else if (Array.from(name).length > 256) errors.name = 'invalid_assignment';
  let due: string | undefined;
  if (form.due.trim()) {
    due = localToRfc3339(form.due, zone);
    if (!due) errors.due = 'invalid_due_date';
  } else if (original.due_date_time) {
    // The API cannot clear a due date (Microsoft keeps one once set): ask for a date.
    errors.due = 'required';
  }
  const max = form.points === undefined ? undefined : parseMaxPoints(form.points);
  if (max && !max.ok) errors.points = max.code;
  if (errors.name || errors.due || errors.points) return { ok: false, errors };
  const patch: Patch = {};
  if (name !== (original.display_name ?? '').trim()) patch.display_name = name;
  if (form.instructions.trim() !== (original.instructions ?? '').trim()) patch.instructions = form.instructions.trim();
  const before = original.due_date_time ? new Date(original.due_date_time).getTime() : undefined;
  if (due && new Date(due).getTime() !== before) patch.due = due;
  if (max?.ok && max.value !== (original.max_points ?? null)) patch.max_points = max.value;
  return { ok: true, patch, empty: Object.keys(patch).length === 0 };
}
