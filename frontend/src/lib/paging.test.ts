import { QueryClient, InfiniteQueryObserver, type InfiniteData } from '@tanstack/react-query';
import { describe, expect, it } from 'vitest';
import { canLoadMore, classesKey, pagedState, type Page, type PagedSnapshot, type PagedState } from './paging';

type S = PagedState<string>;
type P = Page<string>;

const snap = (over: Partial<PagedSnapshot<P>>): PagedSnapshot<P> => ({
  data: undefined,
  error: null,
  isError: false,
  isFetching: false,
  isFetchingNextPage: false,
  isFetchNextPageError: false,
  ...over,
});

/** An infinite query as `usePaged` sets it up, driven without React. */
function list(client: QueryClient, key: string, pages: Record<string, () => Promise<P>>) {
  return new InfiniteQueryObserver<P, Error, InfiniteData<P, string | null>, string[], string | null>(client, {
    queryKey: [key],
    queryFn: ({ pageParam }) => pages[pageParam ?? 'first']!(),
    initialPageParam: null,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}

describe('"see more" paging state', () => {
  it('loads a first page, then appends the next one with its cursor', async () => {
    const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    let release: () => void = () => {};
    const o = list(client, 'k', {
      first: async () => ({ items: ['a', 'b'], next_cursor: 'c1' }),
      c1: () => new Promise((ok) => (release = () => ok({ items: ['c'] }))),
    });
    const unsubscribe = o.subscribe(() => {});
    let s: S = pagedState(true, o.getCurrentResult());
    expect(s.status).toBe('loading');
    await client.getQueryCache().find({ queryKey: ['k'] })!.promise;
    s = pagedState(true, o.getCurrentResult());
    expect(s.items).toEqual(['a', 'b']);
    expect(canLoadMore(s)).toBe(true);
    const more = o.fetchNextPage();
    s = pagedState(true, o.getCurrentResult());
    expect(s.status).toBe('loading-more');
    expect(canLoadMore(s)).toBe(false);
    release();
    await more;
    s = pagedState(true, o.getCurrentResult());
    expect(s.items).toEqual(['a', 'b', 'c']);
    expect(s.next).toBeNull();
    expect(canLoadMore(s)).toBe(false);
    unsubscribe();
  });

  it('is idle until its query can run, and loading (not stale) for a new query', () => {
    expect(pagedState(false, snap({})).status).toBe('idle');
    // A new key has no data of its own: what an older query answered is never shown.
    expect(pagedState(true, snap({ isFetching: true }))).toEqual({ items: [], next: null, status: 'loading', error: undefined });
    const failed = new Error('boom');
    expect(pagedState(true, snap({ isError: true, error: failed }))).toMatchObject({ status: 'error', error: failed, items: [] });
    // "Try again" of a failed first page shows loading, not the old error.
    expect(pagedState(true, snap({ isError: true, isFetching: true, error: failed })).status).toBe('loading');
  });

  it('keeps what was loaded when "see more" fails, and lets it be asked again', () => {
    const data = { pages: [{ items: ['a'], next_cursor: 'c' }] };
    const s = pagedState(true, snap({ data, isError: true, isFetchNextPageError: true, error: 'boom' }));
    expect(s.items).toEqual(['a']);
    expect(s.status).toBe('error');
    expect(s.error).toBe('boom');
    expect(s.next).toBe('c');
    expect(canLoadMore(s)).toBe(true);
    // A refresh in the background keeps showing the list.
    expect(pagedState(true, snap({ data, isFetching: true })).status).toBe('ready');
  });

  it('keys a classes query by scope, school (for All only) and search', () => {
    expect(classesKey('mine', 'school-1', ' Math ')).toBe(classesKey('mine', '', 'math'));
    expect(classesKey('all', 's1', '')).not.toBe(classesKey('all', 's2', ''));
  });
});
