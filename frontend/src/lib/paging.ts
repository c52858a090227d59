// "See more" paging over the API's opaque cursors. The list is keyed by its query (scope,
// school, search): a new query starts over, and an answer that arrives for an older query is
// ignored, so a slow first search can never overwrite a newer one.

export interface PagedState<T> {
  key: string;
  items: T[];
  next: string | null;
  status: 'idle' | 'loading' | 'loading-more' | 'ready' | 'error';
  error: unknown;
}

export type PagedAction<T> =
  | { type: 'start'; key: string }
  | { type: 'more' }
  | { type: 'page'; key: string; items: T[]; next: string | null | undefined; append: boolean }
  | { type: 'failed'; key: string; error: unknown };

export function initialPaged<T>(key = ''): PagedState<T> {
  return { key, items: [], next: null, status: 'idle', error: undefined };
}

export function pagedReducer<T>(state: PagedState<T>, action: PagedAction<T>): PagedState<T> {
  switch (action.type) {
    case 'start':
      return { key: action.key, items: [], next: null, status: 'loading', error: undefined };
    case 'more':
      if (!state.next || state.status === 'loading' || state.status === 'loading-more') return state;
      return { ...state, status: 'loading-more', error: undefined };
    case 'page':
      if (action.key !== state.key) return state;
      return {
        ...state,
        items: action.append ? [...state.items, ...action.items] : action.items,
        next: action.next ?? null,
        status: 'ready',
        error: undefined,
      };
    case 'failed':
      if (action.key !== state.key) return state;
      return { ...state, status: 'error', error: action.error };
  }
}

/** Whether "See more" can be asked for now (also again after a failed "see more"). */
export function canLoadMore(state: PagedState<unknown>): boolean {
  return (state.status === 'ready' || state.status === 'error') && state.next !== null;
}

/** The query key of a classes list. */
export function classesKey(scope: 'mine' | 'all', schoolId: string, q: string): string {
  return JSON.stringify([scope, scope === 'all' ? schoolId : '', q.trim().toLowerCase()]);
}
