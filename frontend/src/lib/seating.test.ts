import { describe, expect, it } from 'vitest';
import { fillEmpty, placeStudent, sameSeating, seatAt, seatLabel, seatOf, unseat, unseated, type Seat } from './seating';

const chart: Seat[] = [
  { student_id: 'ann', row: 0, col: 0 },
  { student_id: 'bob', row: 0, col: 1 },
];

describe('seating chart moves', () => {
  it('seats an unseated student on an empty seat', () => {
    const next = placeStudent(chart, 'cid', 2, 3);
    expect(seatOf(next, 'cid')).toEqual({ student_id: 'cid', row: 2, col: 3 });
    expect(next).toHaveLength(3);
  });

  it('moves a seated student to an empty seat, freeing the old one', () => {
    const next = placeStudent(chart, 'ann', 5, 5);
    expect(seatAt(next, 0, 0)).toBeUndefined();
    expect(seatOf(next, 'ann')).toMatchObject({ row: 5, col: 5 });
  });

  it('swaps two seated students', () => {
    const next = placeStudent(chart, 'ann', 0, 1);
    expect(seatOf(next, 'ann')).toMatchObject({ row: 0, col: 1 });
    expect(seatOf(next, 'bob')).toMatchObject({ row: 0, col: 0 });
    expect(next).toHaveLength(2);
  });

  it('an unseated student dropped on an occupied seat unseats its occupant', () => {
    const next = placeStudent(chart, 'cid', 0, 0);
    expect(seatOf(next, 'cid')).toMatchObject({ row: 0, col: 0 });
    expect(seatOf(next, 'ann')).toBeUndefined();
  });

  it('never leaves the 6 × 6 grid, never doubles a seat or a student', () => {
    expect(placeStudent(chart, 'ann', 6, 0)).toEqual(chart);
    expect(placeStudent(chart, 'ann', -1, 0)).toEqual(chart);
    let s: Seat[] = [];
    for (const [id, r, c] of [['a', 0, 0], ['b', 0, 0], ['a', 1, 1], ['c', 1, 1], ['b', 1, 1]] as const) s = placeStudent(s, id, r, c);
    const cells = new Set(s.map((x) => `${x.row},${x.col}`));
    const ids = new Set(s.map((x) => x.student_id));
    expect(cells.size).toBe(s.length);
    expect(ids.size).toBe(s.length);
  });

  it('dropping a student on their own seat changes nothing', () => {
    expect(sameSeating(placeStudent(chart, 'ann', 0, 0), chart)).toBe(true);
  });

  it('unseats, lists the unseated, fills empty seats and compares charts', () => {
    expect(unseat(chart, 'ann')).toEqual([chart[1]]);
    const people = [{ id: 'ann' }, { id: 'bob' }, { id: 'cid' }];
    expect(unseated(people, chart)).toEqual([{ id: 'cid' }]);
    const filled = fillEmpty(chart, ['ann', 'bob', 'cid', 'dee']);
    expect(seatOf(filled, 'cid')).toMatchObject({ row: 0, col: 2 });
    expect(seatOf(filled, 'dee')).toMatchObject({ row: 0, col: 3 });
    expect(sameSeating(chart, [...chart].reverse())).toBe(true);
    expect(sameSeating(chart, placeStudent(chart, 'ann', 0, 1))).toBe(false);
    expect(seatLabel(1, 2)).toBe('Row 2, seat 3');
  });
});
