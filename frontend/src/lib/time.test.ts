import { describe, expect, it } from 'vitest';
import { formatOffset, formatWhen, localToRfc3339, zoneOffsetMinutes } from './time';

describe('due dates in the person’s time zone', () => {
  it('sends wall-clock time with the zone’s offset at that date (winter and summer)', () => {
    expect(localToRfc3339('2026-12-01T17:00', 'Europe/Paris')).toBe('2026-12-01T17:00:00+01:00');
    expect(localToRfc3339('2026-07-01T17:00', 'Europe/Paris')).toBe('2026-07-01T17:00:00+02:00');
    expect(localToRfc3339('2026-12-01T09:30', 'America/New_York')).toBe('2026-12-01T09:30:00-05:00');
    expect(localToRfc3339('2026-12-01T09:30', 'Asia/Kolkata')).toBe('2026-12-01T09:30:00+05:30');
    expect(localToRfc3339('2026-12-01T09:30', 'UTC')).toBe('2026-12-01T09:30:00+00:00');
  });

  it('the sent value is the same instant as the wall-clock time in that zone', () => {
    const sent = localToRfc3339('2026-03-10T08:15', 'Australia/Sydney')!;
    expect(new Date(sent).toISOString()).toBe('2026-03-09T21:15:00.000Z');
  });

  it('moves a time skipped by daylight saving forward, as clocks do', () => {
    // Paris, 29 March 2026: 02:00 jumps to 03:00.
    expect(localToRfc3339('2026-03-29T02:30', 'Europe/Paris')).toBe('2026-03-29T03:30:00+02:00');
    // The hour just before and after the change.
    expect(localToRfc3339('2026-03-29T01:59', 'Europe/Paris')).toBe('2026-03-29T01:59:00+01:00');
    expect(localToRfc3339('2026-03-29T03:00', 'Europe/Paris')).toBe('2026-03-29T03:00:00+02:00');
  });

  it('refuses malformed or impossible dates', () => {
    expect(localToRfc3339('', 'UTC')).toBeUndefined();
    expect(localToRfc3339('2026-02-31T10:00', 'UTC')).toBeUndefined();
    expect(localToRfc3339('2026-13-01T10:00', 'UTC')).toBeUndefined();
    expect(localToRfc3339('tomorrow', 'UTC')).toBeUndefined();
  });

  it('computes offsets and formats them', () => {
    expect(zoneOffsetMinutes('Europe/Paris', Date.UTC(2026, 0, 1))).toBe(60);
    expect(zoneOffsetMinutes('America/Los_Angeles', Date.UTC(2026, 6, 1))).toBe(-420);
    expect(formatOffset(-420)).toBe('-07:00');
    expect(formatOffset(330)).toBe('+05:30');
    expect(formatOffset(0)).toBe('+00:00');
  });

  it('shows UTC timestamps in the given zone', () => {
    expect(formatWhen('2026-12-01T16:00:00Z', 'Europe/Paris')).toMatch(/17:00|5:00/);
    expect(formatWhen(null)).toBe('');
    expect(formatWhen('not a date')).toBe('not a date');
  });
});

describe('one date and time format everywhere (issue 16)', () => {
  it('no page formats dates itself: formatWhen is the only formatter', async () => {
    // Node modules by name (the SPA's TypeScript setup has no Node types).
    const [fsName, pathName] = ['node:fs', 'node:path'];
    const { readdirSync, readFileSync, statSync } = await import(/* @vite-ignore */ fsName);
    const { join } = await import(/* @vite-ignore */ pathName);
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const f of readdirSync(dir) as string[]) {
        const p: string = join(dir, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.tsx?$/.test(p) && !p.endsWith('lib/time.ts') && !p.includes('.test.')) {
          const text = readFileSync(p, 'utf8') as string;
          if (/toLocale(Date|Time)?String\(\s*\)|toLocaleDateString|toLocaleTimeString|new Intl\.DateTimeFormat/.test(text)) offenders.push(p);
        }
      }
    };
    walk('src');
    expect(offenders).toEqual([]);
  });
});
