import { describe, expect, it } from 'vitest';
import { canLoadMore, classesKey, initialPaged, pagedReducer, type PagedState } from './paging';

type S = PagedState<string>;

describe('"see more" paging state', () => {
  it('loads a first page, then appends the next one with its cursor', () => {
    let s: S = initialPaged();
    s = pagedReducer(s, { type: 'start', key: 'k' });
    expect(s.status).toBe('loading');
    s = pagedReducer(s, { type: 'page', key: 'k', items: ['a', 'b'], next: 'c1', append: false });
    expect(s.items).toEqual(['a', 'b']);
    expect(canLoadMore(s)).toBe(true);
    s = pagedReducer(s, { type: 'more' });
    expect(s.status).toBe('loading-more');
    expect(canLoadMore(s)).toBe(false);
    s = pagedReducer(s, { type: 'page', key: 'k', items: ['c'], next: undefined, append: true });
    expect(s.items).toEqual(['a', 'b', 'c']);
    expect(s.next).toBeNull();
    expect(canLoadMore(s)).toBe(false);
  });

  it('ignores answers for an older query', () => {
    let s: S = pagedReducer(initialPaged(), { type: 'start', key: 'old' });
    s = pagedReducer(s, { type: 'start', key: 'new' });
    s = pagedReducer(s, { type: 'page', key: 'old', items: ['stale'], next: 'x', append: false });
    expect(s.items).toEqual([]);
    expect(s.status).toBe('loading');
    s = pagedReducer(s, { type: 'failed', key: 'old', error: new Error('late') });
    expect(s.status).toBe('loading');
    s = pagedReducer(s, { type: 'page', key: 'new', items: ['fresh'], next: null, append: false });
    expect(s.items).toEqual(['fresh']);
  });

  it('keeps what was loaded when "see more" fails, and does not ask twice', () => {
    let s: S = pagedReducer(initialPaged(), { type: 'start', key: 'k' });
    s = pagedReducer(s, { type: 'page', key: 'k', items: ['a'], next: 'c', append: false });
    s = pagedReducer(s, { type: 'more' });
    expect(pagedReducer(s, { type: 'more' })).toBe(s);
    s = pagedReducer(s, { type: 'failed', key: 'k', error: 'boom' });
    expect(s.items).toEqual(['a']);
    expect(s.status).toBe('error');
    expect(s.next).toBe('c');
    expect(canLoadMore(s)).toBe(true);
  });

  it('keys a classes query by scope, school (for All only) and search', () => {
    expect(classesKey('mine', 'school-1', ' Math ')).toBe(classesKey('mine', '', 'math'));
    expect(classesKey('all', 's1', '')).not.toBe(classesKey('all', 's2', ''));
  });
});
