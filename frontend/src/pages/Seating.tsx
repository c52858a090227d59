// The seating chart. Teachers arrange seats by drag and drop, or with the keyboard (choose a
// student, then a seat; dropping on an occupied seat swaps). Students see their own seat.
import { useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import { ApiError } from '../api/http';
import { clearDraft, KEEP_ALIVE_MS, loadDraft, saveDraft, shouldKeepAlive } from '../lib/draft';
import { signInAgainHref } from '../lib/returnTo';
import { formatWhen } from '../lib/time';
import { api, ok, type ClassDetails, type Me, type Member } from '../api/client';
import { humanError } from '../api/errors';
import {
  GRID,
  fillEmpty,
  placeStudent,
  sameSeating,
  seatAt,
  seatLabel,
  seatOf,
  sortSeats,
  unseat,
  unseated,
  type Seat,
} from '../lib/seating';
import { Alert, Empty, Swatch } from '../ui';

function seatsOf(members: Member[]): Seat[] {
  return sortSeats(
    members
      .filter((m) => m.role === 'student' && m.seat)
      .map((m) => ({ student_id: m.id, row: m.seat!.row, col: m.seat!.col })),
  );
}

/** "Ava Garcia" -> "Ava G." for the small seat boxes (the full name is in the label). */
export function shortName(name: string): string {
  const parts = name.trim().split(/\s+/);
  if (parts.length < 2) return name;
  return `${parts[0]} ${parts[parts.length - 1]![0]}.`;
}

export function SeatingChart({
  me,
  d,
  classId,
  setMembers,
}: {
  me: Me;
  d: ClassDetails;
  classId: string;
  setMembers: (f: (m: Member[]) => Member[]) => void;
}) {
  const students = useMemo(() => d.members.filter((m) => m.role === 'student'), [d.members]);
  if (d.my_role === 'student') return <MySeat me={me} d={d} />;
  if (!students.length) {
    return (
      <Empty>
        <p>No students are enrolled in this class, so there is nobody to seat.</p>
      </Empty>
    );
  }
  return d.my_role === 'teacher' ? (
    <SeatingEditor students={students} classId={classId} setMembers={setMembers} />
  ) : (
    <ReadOnlyGrid students={students} seats={seatsOf(d.members)} />
  );
}

function MySeat({ me, d }: { me: Me; d: ClassDetails }) {
  // The server sends a student only their own seat; find "me" among the members by seat.
  const mine = d.members.find((m) => m.role === 'student' && m.seat);
  const seat = mine?.seat;
  return (
    <>
      <h2>Your seat</h2>
      {seat ? (
        <p className="your-seat" aria-live="polite">
          <Swatch color={me.user.favorite_color} /> You sit in <strong>{seatLabel(seat.row, seat.col)}</strong>{' '}
          <span className="muted">(row 1 is at the front).</span>
        </p>
      ) : (
        <Empty>
          <p>Your teacher has not given you a seat yet.</p>
        </Empty>
      )}
      {seat && (
        <div className="seat-grid" role="img" aria-label={`Seating chart: your seat is ${seatLabel(seat.row, seat.col)}`}>
          <div className="front" aria-hidden="true">
            Front of the room
          </div>
          {Array.from({ length: GRID * GRID }, (_, i) => {
            const r = Math.floor(i / GRID);
            const c = i % GRID;
            const me2 = r === seat.row && c === seat.col;
            return (
              <div key={i} className={me2 ? 'seat seat-mine' : 'seat seat-empty'} aria-hidden="true">
                {me2 ? 'You' : ''}
              </div>
            );
          })}
        </div>
      )}
    </>
  );
}

function ReadOnlyGrid({ students, seats }: { students: Member[]; seats: Seat[] }) {
  const names = new Map(students.map((s) => [s.id, s.display_name ?? 'Student']));
  return (
    <>
      <h2>Seating chart</h2>
      <p className="muted">Only the class’s teachers can change it.</p>
      <div className="seat-grid">
        <div className="front">Front of the room</div>
        {Array.from({ length: GRID * GRID }, (_, i) => {
          const s = seatAt(seats, Math.floor(i / GRID), i % GRID);
          const name = s ? names.get(s.student_id) ?? 'Student' : '';
          return (
            <div key={i} className={s ? 'seat' : 'seat seat-empty'} title={name || undefined}>
              <span className="visually-hidden">{seatLabel(Math.floor(i / GRID), i % GRID)}: </span>
              {s ? shortName(name) : <span className="visually-hidden">empty</span>}
            </div>
          );
        })}
      </div>
    </>
  );
}

const DRAG_TYPE = 'application/x-edugraph-student';

function SeatingEditor({
  students,
  classId,
  setMembers,
}: {
  students: Member[];
  classId: string;
  setMembers: (f: (m: Member[]) => Member[]) => void;
}) {
  const initial = useMemo(() => seatsOf(students), [students]);
  const draftKey = `seating.${classId}`;
  // Unsaved changes from before a reload, tab switch or expired session (issue 16).
  const [restored] = useState(() =>
    loadDraft(draftKey, (v): v is Seat[] =>
      Array.isArray(v) &&
      v.every(
        (x) =>
          x && typeof x === 'object' && typeof x.student_id === 'string' && students.some((m) => m.id === x.student_id) &&
          Number.isInteger(x.row) && Number.isInteger(x.col),
      ),
    ),
  );
  const [saved, setSaved] = useState<Seat[]>(initial);
  const [seats, setSeats] = useState<Seat[]>(() => (restored ? sortSeats(restored.value) : initial));
  const [expired, setExpired] = useState(false);
  const lastActivity = useRef(Date.now());
  const [selected, setSelected] = useState<string | null>(null);
  const [announce, setAnnounce] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ kind: 'success' | 'error'; text: string }>();
  const [dropTarget, setDropTarget] = useState<string | null>(null);
  const gridRef = useRef<HTMLDivElement>(null);

  const byId = useMemo(() => new Map(students.map((s) => [s.id, s])), [students]);
  const nameOf = (id: string) => byId.get(id)?.display_name ?? 'Student';
  const waiting = unseated(students, seats);
  const dirty = !sameSeating(seats, saved);

  // The draft follows every change and goes when the chart is saved or undone.
  useEffect(() => {
    lastActivity.current = Date.now();
    if (dirty) saveDraft(draftKey, seats);
    else clearDraft(draftKey);
  }, [dirty, draftKey, seats]);
  // Leaving with unsaved changes asks first (reload, closing the tab, another site).
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);
  // While someone is editing, the session stays alive (the idle timeout would end it).
  useEffect(() => {
    if (!dirty) return;
    const touch = () => (lastActivity.current = Date.now());
    window.addEventListener('pointerdown', touch);
    window.addEventListener('keydown', touch);
    const timer = window.setInterval(() => {
      if (!shouldKeepAlive(true, lastActivity.current, Date.now())) return;
      void fetch('/api/me', { credentials: 'same-origin' }).then((r) => {
        if (r.status === 401) setExpired(true);
      });
    }, KEEP_ALIVE_MS);
    return () => {
      window.clearInterval(timer);
      window.removeEventListener('pointerdown', touch);
      window.removeEventListener('keydown', touch);
    };
  }, [dirty]);

  const place = (studentId: string, row: number, col: number) => {
    const occupant = seatAt(seats, row, col);
    const next = placeStudent(seats, studentId, row, col);
    setSeats(next);
    setSelected(null);
    setResult(undefined);
    let msg = `${nameOf(studentId)} now sits in ${seatLabel(row, col)}.`;
    if (occupant && occupant.student_id !== studentId) {
      const moved = seatOf(next, occupant.student_id);
      msg += moved
        ? ` ${nameOf(occupant.student_id)} moved to ${seatLabel(moved.row, moved.col)}.`
        : ` ${nameOf(occupant.student_id)} has no seat now.`;
    }
    setAnnounce(msg);
  };

  const takeOff = (studentId: string) => {
    setSeats(unseat(seats, studentId));
    setSelected(null);
    setAnnounce(`${nameOf(studentId)} has no seat now.`);
  };

  const select = (studentId: string) => {
    if (selected === studentId) {
      setSelected(null);
      setAnnounce('Nobody selected.');
      return;
    }
    setSelected(studentId);
    const s = seatOf(seats, studentId);
    setAnnounce(
      `${nameOf(studentId)} selected${s ? ` (now in ${seatLabel(s.row, s.col)})` : ''}. Choose a seat for them.`,
    );
    gridRef.current?.querySelector<HTMLButtonElement>('button.seat')?.scrollIntoView?.({ block: 'nearest' });
  };

  const onSeat = (row: number, col: number) => {
    const occupant = seatAt(seats, row, col);
    if (selected) place(selected, row, col);
    else if (occupant) select(occupant.student_id);
  };

  const dragStart = (e: DragEvent, studentId: string) => {
    e.dataTransfer.setData(DRAG_TYPE, studentId);
    e.dataTransfer.setData('text/plain', nameOf(studentId));
    e.dataTransfer.effectAllowed = 'move';
  };
  const allowDrop = (e: DragEvent, target: string) => {
    if (!e.dataTransfer.types.includes(DRAG_TYPE)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'move';
    setDropTarget(target);
  };
  const dropOn = (e: DragEvent, row: number | null, col: number | null) => {
    const id = e.dataTransfer.getData(DRAG_TYPE);
    setDropTarget(null);
    if (!id || !byId.has(id)) return;
    e.preventDefault();
    if (row === null || col === null) takeOff(id);
    else place(id, row, col);
  };

  const save = async () => {
    setBusy(true);
    setResult(undefined);
    try {
      const answer = await ok(api.PUT('/api/classes/{id}/seating', { params: { path: { id: classId } }, body: { seats } }));
      const next = sortSeats(answer.seats);
      setSaved(next);
      setSeats(next);
      setMembers((ms) =>
        ms.map((m) => {
          if (m.role !== 'student') return m;
          const s = seatOf(next, m.id);
          return { ...m, seat: s ? { row: s.row, col: s.col } : null };
        }),
      );
      setResult({ kind: 'success', text: 'Seating chart saved.' });
      setExpired(false);
    } catch (err) {
      if (err instanceof ApiError && (err.code === 'unauthenticated' || err.code === 'csrf_failed')) setExpired(true);
      else setResult({ kind: 'error', text: humanError(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <h2>Seating chart</h2>
      <p className="hint" id="seating-help">
        Drag a student onto a seat, or use the keyboard: choose a student (Enter or Space), then choose a seat
        (arrow keys move between seats; Escape cancels). A student dropped on a taken seat swaps places. Row 1 is at the front of the room. Save
        when you are done.
      </p>
      <p className="visually-hidden" aria-live="polite" role="status">
        {announce}
      </p>
      <div
        className="seating"
        onKeyDown={(e) => {
          if (e.key === 'Escape' && selected) {
            e.preventDefault();
            setSelected(null);
            setAnnounce('Nobody selected.');
          }
        }}
      >
        <div
          className={dropTarget === 'pool' ? 'pool drop-target' : 'pool'}
          onDragOver={(e) => allowDrop(e, 'pool')}
          onDragLeave={() => setDropTarget(null)}
          onDrop={(e) => dropOn(e, null, null)}
        >
          <h3 id="pool-title">Not seated ({waiting.length})</h3>
          {waiting.length ? (
            <ul aria-labelledby="pool-title" className="chips">
              {waiting.map((s) => (
                <li key={s.id}>
                  <button
                    type="button"
                    className="chip"
                    draggable
                    onDragStart={(e) => dragStart(e, s.id)}
                    aria-pressed={selected === s.id}
                    onClick={() => select(s.id)}
                    data-student={s.id}
                  >
                    <Swatch color={s.favorite_color} />
                    {s.display_name ?? 'Student'}
                  </button>
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted">Everyone has a seat.</p>
          )}
          {selected && seatOf(seats, selected) && (
            <button type="button" className="button button-secondary button-small" onClick={() => takeOff(selected)}>
              Take {nameOf(selected)} off their seat
            </button>
          )}
        </div>
        <div
          className="seat-grid"
          ref={gridRef}
          role="group"
          aria-label="Seats: 6 rows of 6, row 1 at the front"
          aria-describedby="seating-help"
          onKeyDown={(e) => {
            // Arrow keys move between seats.
            const from = (e.target as HTMLElement).dataset.seat;
            const step: Record<string, [number, number]> = {
              ArrowLeft: [0, -1],
              ArrowRight: [0, 1],
              ArrowUp: [-1, 0],
              ArrowDown: [1, 0],
            };
            const d = step[e.key];
            if (!from || !d) return;
            const [r, c] = from.split('-').map(Number) as [number, number];
            const [nr, nc] = [r + d[0], c + d[1]];
            if (nr < 0 || nc < 0 || nr >= GRID || nc >= GRID) return;
            e.preventDefault();
            gridRef.current?.querySelector<HTMLButtonElement>(`[data-seat="${nr}-${nc}"]`)?.focus();
          }}
        >
          <div className="front" aria-hidden="true">
            Front of the room
          </div>
          {Array.from({ length: GRID * GRID }, (_, i) => {
            const row = Math.floor(i / GRID);
            const col = i % GRID;
            const s = seatAt(seats, row, col);
            const name = s ? nameOf(s.student_id) : '';
            const key = `${row}-${col}`;
            const classes = ['seat', s ? '' : 'seat-empty', s && selected === s.student_id ? 'seat-selected' : '', dropTarget === key ? 'drop-target' : '']
              .filter(Boolean)
              .join(' ');
            return (
              <button
                key={key}
                type="button"
                className={classes}
                data-seat={key}
                draggable={Boolean(s)}
                onDragStart={s ? (e) => dragStart(e, s.student_id) : undefined}
                onDragOver={(e) => allowDrop(e, key)}
                onDragLeave={() => setDropTarget(null)}
                onDrop={(e) => dropOn(e, row, col)}
                onClick={() => onSeat(row, col)}
                aria-pressed={s ? selected === s.student_id : undefined}
                title={name || undefined}
              >
                {/* Spoken: the full label; shown: the short form (hidden from the name, so the
                    visible text never contradicts it: axe label-content-name-mismatch). */}
                <span className="visually-hidden">
                  {`${seatLabel(row, col)}: ${s ? name : 'empty'}${selected && !s ? `. Seat ${nameOf(selected)} here` : ''}`}
                </span>
                {s ? (
                  <span aria-hidden="true" className="seat-face">
                    <Swatch color={byId.get(s.student_id)?.favorite_color} />
                    <span className="seat-name">{shortName(name)}</span>
                  </span>
                ) : (
                  <span className="seat-free" aria-hidden="true">
                    {row + 1}·{col + 1}
                  </span>
                )}
              </button>
            );
          })}
        </div>
      </div>
      {result && <Alert kind={result.kind}>{result.text}</Alert>}
      {expired && (
        <div className="card draft-note" role="alert">
          <p>
            Your session has ended, so the seating chart could not be saved. Your changes are kept on this device: sign
            in again and you come back here with them.
          </p>
          <a className="button" href={signInAgainHref()}>
            Sign in again
          </a>
        </div>
      )}
      {restored && dirty && (
        <p className="muted draft-note" role="status">
          Your unsaved changes from {formatWhen(restored.at)} are back. Save them, or undo them.
        </p>
      )}
      <div className="actions">
        <button type="button" className="button" onClick={save} disabled={busy || !dirty}>
          {busy ? 'Saving…' : 'Save seating chart'}
        </button>
        <button
          type="button"
          className="button button-secondary"
          onClick={() => {
            setSeats(fillEmpty(seats, waiting.map((w) => w.id)));
            setAnnounce('Every student without a seat got the next free seat.');
          }}
          disabled={!waiting.length}
        >
          Seat everyone else
        </button>
        <button
          type="button"
          className="button button-secondary"
          onClick={() => {
            setSeats(saved);
            setSelected(null);
            setAnnounce('Changes undone.');
          }}
          disabled={!dirty}
        >
          Undo changes
        </button>
        {dirty && <span className="muted unsaved">Unsaved changes</span>}
      </div>
    </>
  );
}
