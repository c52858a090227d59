import { beforeEach, describe, expect, it } from 'vitest';
import { clearDraft, loadDraft, saveDraft, shouldKeepAlive, ACTIVE_WINDOW_MS } from './draft';

const isNumbers = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number');

describe('drafts (issue 16: work is never lost)', () => {
  beforeEach(() => {
    const store = new Map<string, string>();
    globalThis.localStorage = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
      removeItem: (k: string) => void store.delete(k),
      clear: () => store.clear(),
      key: () => null,
      length: 0,
    } as Storage;
  });
  it('keeps a draft until cleared, and refuses a malformed one', () => {
    saveDraft('k', [1, 2], 42);
    expect(loadDraft('k', isNumbers)).toEqual({ value: [1, 2], at: 42 });
    localStorage.setItem('edugraph.draft.k', JSON.stringify({ value: ['x'], at: 1 }));
    expect(loadDraft('k', isNumbers)).toBeNull();
    saveDraft('k', [3]);
    clearDraft('k');
    expect(loadDraft('k', isNumbers)).toBeNull();
  });
  it('keeps the session alive only while someone edits', () => {
    expect(shouldKeepAlive(true, 1000, 1000 + ACTIVE_WINDOW_MS)).toBe(true);
    expect(shouldKeepAlive(true, 1000, 1001 + ACTIVE_WINDOW_MS)).toBe(false);
    expect(shouldKeepAlive(false, 1000, 1000)).toBe(false);
  });
});
