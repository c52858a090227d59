// Dates and times in the person's own time zone. The API stores UTC; a due date is entered as
// a wall-clock time in the person's zone and sent with that zone's UTC offset at that moment
// (RFC 3339, e.g. `2026-12-01T17:00:00+01:00`), so daylight-saving changes are handled.

/** The browser's IANA time zone (e.g. `Europe/Paris`), or `UTC` when unknown. */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** The zone's offset from UTC in minutes at the instant `utcMs` (east positive: Paris in winter = 60). */
export function zoneOffsetMinutes(timeZone: string, utcMs: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(utcMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? '0');
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour') % 24, get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(utcMs / 1000) * 1000) / 60_000);
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

function pad(n: number, w = 2): string {
  return String(Math.abs(n)).padStart(w, '0');
}

export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  return `${sign}${pad(Math.trunc(Math.abs(minutes) / 60))}:${pad(Math.abs(minutes) % 60)}`;
}

/**
 * A `datetime-local` value (`YYYY-MM-DDTHH:mm`) read as wall-clock time in `timeZone`, as
 * RFC 3339 with that zone's offset. A time that does not exist (skipped by a daylight-saving
 * change) moves forward by the gap, as clocks do. Returns undefined for a malformed value.
 */
export function localToRfc3339(local: string, timeZone: string): string | undefined {
  const m = LOCAL.exec(local.trim());
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map((v) => Number(v ?? '0')) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  if (new Date(wall).getUTCDate() !== d) return undefined; // 31 February
  // Two passes find the offset in force at that wall-clock time.
  let offset = zoneOffsetMinutes(timeZone, wall);
  offset = zoneOffsetMinutes(timeZone, wall - offset * 60_000);
  let utc = wall - offset * 60_000;
  // In a gap the wall time does not round-trip: use the offset after the change.
  const back = utc + zoneOffsetMinutes(timeZone, utc) * 60_000;
  if (back !== wall) offset = zoneOffsetMinutes(timeZone, utc);
  const t = new Date(utc + offset * 60_000);
  return (
    `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}` +
    `T${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}${formatOffset(offset)}`
  );
}

/** A UTC timestamp (RFC 3339 or unix ms) as a readable date and time in `timeZone`. */
export function formatWhen(value: string | number | null | undefined, timeZone = browserTimeZone()): string {
  if (value === null || value === undefined || value === '') return '';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(d);
}

/** A `datetime-local` value for "this time tomorrow, on the hour" in the browser's zone (a default due date). */
export function defaultDue(now = new Date()): string {
  const t = new Date(now.getTime() + 24 * 3600_000);
  return `${pad(t.getFullYear(), 4)}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}T17:00`;
}

/**
 * A UTC timestamp as a `datetime-local` value (`YYYY-MM-DDTHH:mm`) of the wall-clock time in
 * `timeZone` (to edit an existing due date in the person's zone). Undefined when unreadable.
 */
export function utcToLocalInput(value: string | null | undefined, timeZone: string): string | undefined {
  if (!value) return undefined;
  const ms = new Date(value).getTime();
  if (Number.isNaN(ms)) return undefined;
  const t = new Date(ms + zoneOffsetMinutes(timeZone, ms) * 60_000);
  return `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}T${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}`;
}
