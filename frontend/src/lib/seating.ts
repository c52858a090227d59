// Seating chart moves, kept pure so drag and drop, the keyboard path (select a student, then a
// seat) and the tests share one set of rules: a seat holds at most one student, a student has
// at most one seat, and dropping onto an occupied seat swaps the two students.

export interface Seat {
  student_id: string;
  row: number;
  col: number;
}

export const GRID = 6;

export function seatAt(seats: readonly Seat[], row: number, col: number): Seat | undefined {
  return seats.find((s) => s.row === row && s.col === col);
}

export function seatOf(seats: readonly Seat[], studentId: string): Seat | undefined {
  return seats.find((s) => s.student_id === studentId);
}

export function inGrid(row: number, col: number, rows = GRID, cols = GRID): boolean {
  return Number.isInteger(row) && Number.isInteger(col) && row >= 0 && col >= 0 && row < rows && col < cols;
}

/**
 * Puts a student on a seat. Whoever sat there moves to the student's old seat (a swap), or
 * becomes unseated when the student had none. Outside the grid: no change.
 */
export function placeStudent(seats: readonly Seat[], studentId: string, row: number, col: number): Seat[] {
  if (!inGrid(row, col)) return [...seats];
  const from = seatOf(seats, studentId);
  const occupant = seatAt(seats, row, col);
  if (occupant?.student_id === studentId) return [...seats];
  const rest = seats.filter((s) => s.student_id !== studentId && s !== occupant);
  const next: Seat[] = [...rest, { student_id: studentId, row, col }];
  if (occupant && from) next.push({ student_id: occupant.student_id, row: from.row, col: from.col });
  return sortSeats(next);
}

/** Takes a student off the chart. */
export function unseat(seats: readonly Seat[], studentId: string): Seat[] {
  return seats.filter((s) => s.student_id !== studentId);
}

/** Row by row, then column: a stable order for comparing and sending. */
export function sortSeats(seats: readonly Seat[]): Seat[] {
  return [...seats].sort((a, b) => a.row - b.row || a.col - b.col || a.student_id.localeCompare(b.student_id));
}

export function sameSeating(a: readonly Seat[], b: readonly Seat[]): boolean {
  const x = sortSeats(a);
  const y = sortSeats(b);
  return x.length === y.length && x.every((s, i) => s.student_id === y[i]!.student_id && s.row === y[i]!.row && s.col === y[i]!.col);
}

/** Students in `all` with no seat, in the given order. */
export function unseated<T extends { id: string }>(all: readonly T[], seats: readonly Seat[]): T[] {
  const seated = new Set(seats.map((s) => s.student_id));
  return all.filter((p) => !seated.has(p.id));
}

/** Fills empty seats row by row with the unseated students (a quick start for a new class). */
export function fillEmpty(seats: readonly Seat[], studentIds: readonly string[], rows = GRID, cols = GRID): Seat[] {
  const next = [...seats];
  const waiting = studentIds.filter((id) => !seatOf(next, id));
  for (let r = 0; r < rows && waiting.length; r++) {
    for (let c = 0; c < cols && waiting.length; c++) {
      if (!seatAt(next, r, c)) next.push({ student_id: waiting.shift()!, row: r, col: c });
    }
  }
  return sortSeats(next);
}

/** "Row 2, seat 3" (1-based for people). */
export function seatLabel(row: number, col: number): string {
  return `Row ${row + 1}, seat ${col + 1}`;
}
