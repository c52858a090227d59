import { describe, expect, it } from 'vitest';
import { assignmentPatch } from './assignmentForm';
import { utcToLocalInput } from './time';

const original = {
  display_name: 'Fractions',
  instructions: 'Exercises 1-10',
  due_date_time: '2026-12-01T16:00:00Z',
};

describe('editing an assignment’s due date in the person’s time zone', () => {
  it('shows the stored UTC time as wall-clock time in the zone', () => {
    expect(utcToLocalInput('2026-12-01T16:00:00Z', 'Europe/Paris')).toBe('2026-12-01T17:00');
    expect(utcToLocalInput('2026-07-01T15:00:00Z', 'Europe/Paris')).toBe('2026-07-01T17:00');
    expect(utcToLocalInput('2026-12-01T16:00:00Z', 'America/New_York')).toBe('2026-12-01T11:00');
    expect(utcToLocalInput('2026-12-01T20:00:00Z', 'Asia/Kolkata')).toBe('2026-12-02T01:30');
    expect(utcToLocalInput('2026-12-01T16:00:00Z', 'UTC')).toBe('2026-12-01T16:00');
    expect(utcToLocalInput(null, 'UTC')).toBeUndefined();
    expect(utcToLocalInput('soon', 'UTC')).toBeUndefined();
  });

  it('an unchanged form changes nothing (the same instant is not sent again)', () => {
    const form = { name: 'Fractions', instructions: 'Exercises 1-10', due: utcToLocalInput(original.due_date_time, 'Europe/Paris')! };
    expect(assignmentPatch(original, form, 'Europe/Paris')).toEqual({ ok: true, patch: {}, empty: true });
  });

  it('sends only the changed fields, the due time with the zone’s offset', () => {
    const r = assignmentPatch(original, { name: ' Fractions 2 ', instructions: 'Exercises 1-10', due: '2026-12-02T09:30' }, 'Europe/Paris');
    expect(r).toEqual({ ok: true, empty: false, patch: { display_name: 'Fractions 2', due: '2026-12-02T09:30:00+01:00' } });
    const summer = assignmentPatch(original, { name: 'Fractions', instructions: '', due: '2026-07-01T17:00' }, 'Europe/Paris');
    expect(summer).toEqual({ ok: true, empty: false, patch: { instructions: '', due: '2026-07-01T17:00:00+02:00' } });
  });

  it('explains a missing name, an impossible date, and a removed due date', () => {
    expect(assignmentPatch(original, { name: '  ', instructions: '', due: '2026-12-01T17:00' }, 'UTC')).toEqual({
      ok: false,
      errors: { name: 'required' },
    });
    expect(assignmentPatch(original, { name: 'x'.repeat(257), instructions: '', due: '2026-02-31T10:00' }, 'UTC')).toEqual({
      ok: false,
      errors: { name: 'invalid_assignment', due: 'invalid_due_date' },
    });
    expect(assignmentPatch(original, { name: 'Fractions', instructions: '', due: '' }, 'UTC')).toEqual({
      ok: false,
      errors: { due: 'required' },
    });
    // Without a due date before, leaving it empty is fine.
    expect(assignmentPatch({ display_name: 'A' }, { name: 'A', instructions: '', due: '' }, 'UTC')).toEqual({
      ok: true,
      patch: {},
      empty: true,
    });
  });
});
