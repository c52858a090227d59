import { describe, expect, it } from 'vitest';
import { countsText, isLate, nextIndex, parseMaxPoints, parsePoints, parseRubric, pointsText, submissionCounts, todoStateText } from './grading';

describe('grading', () => {
  it('is late only when handed in after the due time', () => {
    expect(isLate('2026-12-01T17:00:01Z', '2026-12-01T17:00:00Z')).toBe(true);
    expect(isLate('2026-12-01T16:00:00Z', '2026-12-01T17:00:00Z')).toBe(false);
    expect(isLate(null, '2026-12-01T17:00:00Z')).toBe(false);
    expect(isLate('2026-12-01T17:00:01Z', null)).toBe(false);
  });

  it('counts handed in, returned, not handed in, excused and late', () => {
    const due = '2026-12-01T17:00:00Z';
    const c = submissionCounts(
      [
        { status: 'submitted', submitted_date_time: '2026-12-01T18:00:00Z' },
        { status: 'returned', submitted_date_time: '2026-12-01T10:00:00Z' },
        { status: 'working', submitted_date_time: null },
        { status: 'excused', submitted_date_time: null },
        { status: 'returned', submitted_date_time: null },
      ],
      due,
    );
    expect(c).toEqual({ handedIn: 2, total: 5, returned: 2, notHandedIn: 2, excused: 1, late: 1 });
    expect(countsText(c)).toBe('Handed in 2 of 4 · 1 late · 2 returned · 2 not handed in · 1 excused');
  });

  it('parses points from 0 to the maximum, decimals with a dot or a comma', () => {
    expect(parsePoints('18,5', 20)).toEqual({ ok: true, value: 18.5 });
    expect(parsePoints(' ', 20)).toEqual({ ok: true, value: null });
    for (const bad of ['-1', '21', 'ten', '1e3', '2.']) expect(parsePoints(bad, 20).ok, bad).toBe(false);
    expect(parsePoints('500', null)).toEqual({ ok: true, value: 500 });
    expect(parseMaxPoints('')).toEqual({ ok: true, value: null });
    expect(parseMaxPoints('0').ok).toBe(false);
    expect(parseMaxPoints('20.5')).toEqual({ ok: true, value: 20.5 });
  });

  it('words points, the next student and to-do states', () => {
    expect(pointsText(18.5, 20)).toBe('18.5 / 20');
    expect(pointsText(7, null)).toBe('7 points');
    expect(pointsText(null, 20)).toBe('');
    expect(nextIndex(2, 3)).toBe(0);
    expect(nextIndex(0, 3)).toBe(1);
    expect(nextIndex(0, 0)).toBe(-1);
    expect(todoStateText('due_soon')).toBe('Due soon');
  });
});

describe('parseRubric', () => {
  it('reads levels with points and one criterion per level', () => {
    const r = parseRubric('Lab', 'Good: 2\nPoor: 1', 'Method: Clear | Unclear\nResults: Right | Wrong');
    expect(r).toEqual({
      ok: true,
      rubric: {
        display_name: 'Lab',
        levels: [{ name: 'Good', points: 2 }, { name: 'Poor', points: 1 }],
        qualities: [
          { name: 'Method', criteria: ['Clear', 'Unclear'] },
          { name: 'Results', criteria: ['Right', 'Wrong'] },
        ],
      },
    });
    expect(parseRubric('Credit', 'Met\nNot yet', 'Argument: Persuasive | Unclear').ok).toBe(true);
  });

  it('refuses a rubric that does not add up', () => {
    expect(parseRubric('', 'Good', 'A: x').ok).toBe(false);
    expect(parseRubric('R', 'Good: 2\nPoor', 'A: x | y').ok).toBe(false);
    expect(parseRubric('R', 'Good\nPoor', 'A: x').ok).toBe(false);
    expect(parseRubric('R', 'Good\nPoor', 'no colon here').ok).toBe(false);
    expect(parseRubric('R', 'Good', '').ok).toBe(false);
  });
});
