// "See more" paging over the API's opaque cursors, for every paged list of the app (classes, a
// school's people, the admin's users, groups, group members, audit log): one hook over TanStack
// Query's infinite queries. The list is keyed by its query (scope, school, search, filters): a
// new query starts over, and an answer that arrives for an older query never shows, so a slow
// first search can never overwrite a newer one.
import { useInfiniteQuery, useQueryClient, type InfiniteData, type QueryKey } from '@tanstack/react-query';

/** One page of a paged list, as the API answers it. */
export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}

export interface PagedState<T> {
  items: T[];
  next: string | null;
  status: 'idle' | 'loading' | 'loading-more' | 'ready' | 'error';
  error: unknown;
}

/** What the list's view is derived from: the parts of an infinite query's result it reads. */
export interface PagedSnapshot<P> {
  data: { pages: P[] } | undefined;
  error: unknown;
  isError: boolean;
  isFetching: boolean;
  isFetchingNextPage: boolean;
  isFetchNextPageError: boolean;
}

/** The list as shown: idle until its query can run, loading, the pages so far, or an error
 * (a failed "see more" keeps what was loaded, and can be asked for again). */
export function pagedState<T>(enabled: boolean, q: PagedSnapshot<Page<T>>): PagedState<T> {
  if (!enabled) return { items: [], next: null, status: 'idle', error: undefined };
  if (!q.data) {
    return q.isError && !q.isFetching
      ? { items: [], next: null, status: 'error', error: q.error }
      : { items: [], next: null, status: 'loading', error: undefined };
  }
  const pages = q.data.pages;
  const items = pages.flatMap((p) => p.items);
  const next = pages[pages.length - 1]?.next_cursor ?? null;
  if (q.isFetchingNextPage) return { items, next, status: 'loading-more', error: undefined };
  if (q.isFetchNextPageError) return { items, next, status: 'error', error: q.error };
  return { items, next, status: 'ready', error: undefined };
}

/** Whether "See more" can be asked for now (also again after a failed "see more"). */
export function canLoadMore(state: PagedState<unknown>): boolean {
  return (state.status === 'ready' || state.status === 'error') && state.next !== null;
}

export type Paged<T, P extends Page<T> = Page<T>> = PagedState<T> & {
  /** The pages as answered (e.g. the first page's `total`). */
  pages: P[];
  /** Loads the next page ("See more"); ignored while one is loading or when there is none. */
  more: () => void;
  /** Starts the list over (after a failed first page: "Try again", or after a change). */
  retry: () => void;
  /** Changes the loaded items in place (an action's known effect, e.g. a removed member). */
  editItems: (f: (items: T[]) => T[]) => void;
};

/**
 * A paged list: `fetchPage(cursor)` is called with `null` for the first page, then with the
 * cursor of the last page. Lists start over at each visit (cursors are sealed and short-lived,
 * so a list is not kept once no page shows it).
 */
export function usePaged<T, P extends Page<T> = Page<T>>(
  queryKey: QueryKey,
  fetchPage: (cursor: string | null) => Promise<P>,
  enabled = true,
): Paged<T, P> {
  const client = useQueryClient();
  const q = useInfiniteQuery({
    queryKey,
    queryFn: ({ pageParam }) => fetchPage(pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    enabled,
    gcTime: 0,
  });
  const state = pagedState<T>(enabled, q);
  return {
    ...state,
    pages: q.data?.pages ?? [],
    more: () => {
      if (canLoadMore(state)) void q.fetchNextPage();
    },
    retry: () => void client.resetQueries({ queryKey, exact: true }),
    editItems: (f) =>
      client.setQueryData<InfiniteData<P, string | null>>(queryKey, (d) =>
        d && { ...d, pages: d.pages.map((p) => ({ ...p, items: f(p.items) })) },
      ),
  };
}

/** The query key of a classes list (the search is trimmed and case-insensitive). */
export function classesKey(scope: 'mine' | 'all', schoolId: string, q: string): string {
  return JSON.stringify([scope, scope === 'all' ? schoolId : '', q.trim().toLowerCase()]);
}
