import { describe, expect, it } from 'vitest';
import { STREAM_LABELS, streamState } from './Directory';

describe('sync status', () => {
  it('says never, up to date, or in progress', () => {
    expect(streamState({ round: null, last_progress_at: null })).toBe('Never synced yet');
    const at = Date.UTC(2026, 11, 3, 8, 0);
    expect(streamState({ round: 'idle', last_progress_at: at })).toMatch(/^Up to date as of /);
    expect(streamState({ round: 'full', last_progress_at: at })).toMatch(/^A sync round is in progress \(last progress /);
    expect(streamState({ round: 'delta', last_progress_at: at })).toMatch(/^A sync round is in progress/);
  });

  it('names every stream the API reports', () => {
    for (const s of ['users', 'edu_classes', 'edu_users', 'edu_members', 'directory']) {
      expect(STREAM_LABELS[s]?.title).toBeTruthy();
    }
  });
});
