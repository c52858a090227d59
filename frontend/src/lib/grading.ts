// Grading (issue 15): the teacher's submissions view's counts and "late", the inline grade
// form's parsing, and the to-do list's wording. Pure functions, tested in grading.test.ts.

export interface SubmissionLike {
  status: string;
  submitted_date_time?: string | null;
}

export interface Counts {
  /** Handed in at some point and not excused (submitted, returned, reassigned). */
  handedIn: number;
  /** Everyone with a submission. */
  total: number;
  returned: number;
  notHandedIn: number;
  excused: number;
  late: number;
}

/** Whether work was handed in after the due time (both ISO/RFC 3339). */
export function isLate(submitted: string | null | undefined, due: string | null | undefined): boolean {
  if (!submitted || !due) return false;
  const s = Date.parse(submitted);
  const d = Date.parse(due);
  return Number.isFinite(s) && Number.isFinite(d) && s > d;
}

/** Whether this submission counts as handed in (it has a hand-in time and is not just being worked on). */
function handedIn(s: SubmissionLike): boolean {
  return s.status === 'submitted' || ((s.status === 'returned' || s.status === 'reassigned') && !!s.submitted_date_time);
}

/** "Handed in x of y, returned, not handed in, excused, late" for the teacher's view. */
export function submissionCounts(subs: SubmissionLike[], due: string | null | undefined): Counts {
  const c: Counts = { handedIn: 0, total: subs.length, returned: 0, notHandedIn: 0, excused: 0, late: 0 };
  for (const s of subs) {
    if (s.status === 'excused') c.excused += 1;
    else if (handedIn(s)) c.handedIn += 1;
    else c.notHandedIn += 1;
    if (s.status === 'returned') c.returned += 1;
    if (s.status !== 'excused' && handedIn(s) && isLate(s.submitted_date_time, due)) c.late += 1;
  }
  return c;
}

/** The counts as one line, e.g. "Handed in 3 of 25 · 1 late · 2 returned · 22 not handed in · 0 excused". */
export function countsText(c: Counts): string {
  const parts = [`Handed in ${c.handedIn} of ${c.total - c.excused}`];
  if (c.late) parts.push(`${c.late} late`);
  parts.push(`${c.returned} returned`, `${c.notHandedIn} not handed in`, `${c.excused} excused`);
  return parts.join(' · ');
}

export type PointsResult = { ok: true; value: number | null } | { ok: false; code: 'invalid_points' };

/** Points typed by the teacher: empty clears; a number from 0 to `max` (decimals with `.` or `,`). */
export function parsePoints(text: string, max: number | null | undefined): PointsResult {
  const t = text.trim().replace(',', '.');
  if (t === '') return { ok: true, value: null };
  if (!/^\d+(\.\d+)?$/.test(t)) return { ok: false, code: 'invalid_points' };
  const v = Number(t);
  if (!Number.isFinite(v) || v < 0 || (max != null && v > max)) return { ok: false, code: 'invalid_points' };
  return { ok: true, value: v };
}

/** The maximum points typed for an assignment: empty means no grade; otherwise above 0. */
export function parseMaxPoints(text: string): PointsResult {
  const t = text.trim().replace(',', '.');
  if (t === '') return { ok: true, value: null };
  if (!/^\d+(\.\d+)?$/.test(t) || Number(t) <= 0 || Number(t) >= 9_999_999) return { ok: false, code: 'invalid_points' };
  return { ok: true, value: Number(t) };
}

/** "18.5 / 20", "18.5 points", or '' without points. */
export function pointsText(points: number | null | undefined, max: number | null | undefined): string {
  if (points == null) return '';
  const p = Number.isInteger(points) ? String(points) : String(Math.round(points * 100) / 100);
  return max != null ? `${p} / ${max}` : `${p} points`;
}

/** The index of the next student to grade after `i` (wrapping to the first), or -1 for none. */
export function nextIndex(i: number, length: number): number {
  if (length === 0) return -1;
  return (i + 1) % length;
}

const TODO_STATES: Record<string, string> = {
  overdue: 'Overdue',
  due_soon: 'Due soon',
  upcoming: 'Upcoming',
  submitted: 'Handed in',
  returned: 'Returned',
  excused: 'Excused',
  to_grade: 'To grade',
};

/** The to-do list's label for an entry's state. */
export function todoStateText(state: string): string {
  return TODO_STATES[state] ?? state;
}

export interface NewRubric {
  display_name: string;
  levels: Array<{ name: string; points?: number | null }>;
  qualities: Array<{ name: string; criteria: string[] }>;
}

/**
 * A rubric typed in three fields: its name; levels one per line, best first, each `name` or
 * `name: points` (all with points or none); qualities one per line, `quality: criterion for the
 * first level | for the second | …`.
 */
export function parseRubric(name: string, levelsText: string, qualitiesText: string): { ok: true; rubric: NewRubric } | { ok: false; code: 'invalid_rubric' } {
  const bad = { ok: false, code: 'invalid_rubric' } as const;
  const lines = (t: string) => t.split('\n').map((l) => l.trim()).filter(Boolean);
  const levels = lines(levelsText).map((l) => {
    const m = /^(.*?)\s*:\s*(\d+(?:[.,]\d+)?)$/.exec(l);
    return m ? { name: m[1]!.trim(), points: Number(m[2]!.replace(',', '.')) } : { name: l, points: null };
  });
  const withPoints = levels.filter((l) => l.points !== null).length;
  if (!name.trim() || levels.length === 0 || levels.length > 10 || (withPoints !== 0 && withPoints !== levels.length)) return bad;
  if (levels.some((l) => !l.name)) return bad;
  const qualities: NewRubric['qualities'] = [];
  for (const l of lines(qualitiesText)) {
    const i = l.indexOf(':');
    if (i <= 0) return bad;
    const criteria = l.slice(i + 1).split('|').map((c) => c.trim());
    if (criteria.length !== levels.length || criteria.some((c) => !c)) return bad;
    qualities.push({ name: l.slice(0, i).trim(), criteria });
  }
  if (qualities.length === 0 || qualities.length > 20) return bad;
  return {
    ok: true,
    rubric: {
      display_name: name.trim(),
      levels: levels.map((l) => (l.points === null ? { name: l.name } : { name: l.name, points: l.points })),
      qualities,
    },
  };
}
