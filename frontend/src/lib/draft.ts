// Unsaved work kept in the browser until it is saved (issue 16: work is never lost): survives a
// tab switch, a reload and an expired session. One draft per key (e.g. a class's seating chart);
// only the person's own browser holds it; saving (or undoing) removes it.

export interface Draft<T> {
  value: T;
  /** When it was last changed, unix ms. */
  at: number;
}

const PREFIX = 'edugraph.draft.';

export function loadDraft<T>(key: string, valid: (v: unknown) => v is T): Draft<T> | null {
  try {
    const raw = JSON.parse(localStorage.getItem(PREFIX + key) ?? 'null') as unknown;
    if (raw && typeof raw === 'object' && 'value' in raw && 'at' in raw && typeof raw.at === 'number') {
      const value = (raw as { value: unknown }).value;
      if (valid(value)) return { value, at: raw.at };
    }
  } catch {
    /* storage off or malformed: no draft */
  }
  return null;
}

export function saveDraft<T>(key: string, value: T, now = Date.now()): void {
  try {
    localStorage.setItem(PREFIX + key, JSON.stringify({ value, at: now }));
  } catch {
    /* storage full or off: the page still warns before leaving */
  }
}

export function clearDraft(key: string): void {
  try {
    localStorage.removeItem(PREFIX + key);
  } catch {
    /* ignore */
  }
}

/** How often an editor with unsaved changes keeps the session alive (the idle timeout is 30 min). */
export const KEEP_ALIVE_MS = 5 * 60 * 1000;
/** Only while the person is actually working: activity within this window counts. */
export const ACTIVE_WINDOW_MS = 15 * 60 * 1000;

/** Whether to ping now: unsaved changes and activity recently enough. */
export function shouldKeepAlive(dirty: boolean, lastActivity: number, now: number): boolean {
  return dirty && now - lastActivity <= ACTIVE_WINDOW_MS;
}
