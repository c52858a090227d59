// Server state: the TanStack Query client, the query keys, and the reads the pages show. Keys
// are hierarchical, so a mutation invalidates a class and everything under it with one call:
//
//   ['classes', id]                                   GET /api/classes/{id} (class + people: ≤ 3 Graph requests)
//   ['classes', id, 'documents' | 'conversations']    one tab's part, read when the tab opens
//   ['classes', id, 'assignments']                    its assignments
//   ['classes', id, 'assignments', aid]               one assignment
//   ['classes', id, 'assignments', aid, 'submissions']
//
// A page never fetches by itself: it reads a query here (`useLoad`, `usePaged` in ui.tsx and
// lib/paging.ts), so two pages that need the same data share one request and one cache entry.
import { QueryClient, notifyManager, queryOptions } from '@tanstack/react-query';
import { api, ok, rawQuery, type PeopleTab } from './client';
import { ApiError } from './http';

/** The app's query client: no automatic retries (an error is shown with "Try again") and no
 * refetch on window focus (the pages refresh after the person's own actions). */
export function createQueryClient(): QueryClient {
  // Query changes reach the components in the same render as the state changes made with
  // them: `setMe(null); navigate('/signin', { flash })` must render "signed out, on /signin"
  // at once. With TanStack's default (a setTimeout), Preact first rendered /signin still signed
  // in, which redirects a signed-in person home and lost the message.
  notifyManager.setScheduler(queueMicrotask);
  return new QueryClient({
    defaultOptions: {
      queries: { retry: false, refetchOnWindowFocus: false, refetchOnReconnect: false },
      mutations: { retry: false },
    },
  });
}

/** How long a loaded class (its roster, documents and conversations: a 6-request Microsoft
 * Graph batch) is reused by the class's tabs and its assignment pages without asking again. */
export const CLASS_FRESH_MS = 5 * 60_000;

export const keys = {
  me: ['me'] as const,
  microsoftHint: ['auth', 'microsoft-hint'] as const,
  schools: ['schools'] as const,
  about: ['me', 'about'] as const,
  profile: ['me', 'profile'] as const,
  classList: (key: string) => ['classes', 'list', key] as const,
  class: (id: string) => ['classes', id] as const,
  classDocuments: (id: string) => ['classes', id, 'documents'] as const,
  classConversations: (id: string) => ['classes', id, 'conversations'] as const,
  assignments: (id: string) => ['classes', id, 'assignments'] as const,
  assignment: (id: string, aid: string) => ['classes', id, 'assignments', aid] as const,
  submissions: (id: string, aid: string) => ['classes', id, 'assignments', aid, 'submissions'] as const,
  schoolPeople: (id: string, tab: PeopleTab) => ['schools', id, 'people', tab] as const,
  admin: ['admin'] as const,
  tenant: ['admin', 'tenant'] as const,
  latestUserAccess: ['admin', 'user-access', 'latest'] as const,
  linkedAccounts: ['admin', 'linked-accounts'] as const,
  profileFields: ['admin', 'profile-fields'] as const,
  users: (key: string) => ['admin', 'users', 'list', key] as const,
  user: (id: string) => ['admin', 'users', id] as const,
  groups: (search: string) => ['admin', 'groups', 'list', search] as const,
  group: (id: string) => ['admin', 'groups', id] as const,
  groupMembers: (id: string) => ['admin', 'groups', id, 'members'] as const,
  recentJobs: (kind: string) => ['admin', 'jobs', 'recent', kind] as const,
  job: (id: string) => ['admin', 'jobs', id] as const,
  jobItems: (id: string) => ['admin', 'jobs', id, 'items'] as const,
  licenses: ['admin', 'licenses'] as const,
  localAccounts: ['admin', 'local-accounts'] as const,
  audit: (key: string) => ['admin', 'audit', key] as const,
  directorySync: ['admin', 'directory-sync'] as const,
  directoryMembers: ['admin', 'directory-sync', 'members'] as const,
  userDirectory: (id: string) => ['admin', 'users', id, 'directory'] as const,
  syncStatus: ['admin', 'sync-status'] as const,
};

/** The path parameters of a resource by id: `api.GET('/api/classes/{id}', byId(id))`. */
export const byId = (id: string) => ({ params: { path: { id } } });
/** The path parameters of an assignment of a class. */
export const inAssignment = (id: string, aid: string) => ({ params: { path: { id, aid } } });
const path = byId;

export const schoolsQuery = () =>
  queryOptions({ queryKey: keys.schools, queryFn: () => ok(api.GET('/api/schools')) });

export const classQuery = (id: string) =>
  queryOptions({
    queryKey: keys.class(id),
    queryFn: () => ok(api.GET('/api/classes/{id}', path(id))),
    staleTime: CLASS_FRESH_MS,
  });

/** The class with its people read from Microsoft again (the "Refresh" button; the server
 * answers from its copy when that was read less than 30 s ago). */
export function refreshClass(id: string) {
  return ok(api.GET('/api/classes/{id}', { params: { path: { id }, query: { refresh: '1' } } }));
}

/** The Documents tab: read when it opens. */
export const classDocumentsQuery = (id: string) =>
  queryOptions({
    queryKey: keys.classDocuments(id),
    queryFn: () => ok(api.GET('/api/classes/{id}/documents', path(id))),
  });

/** The Conversations tab: read when it opens. */
export const classConversationsQuery = (id: string) =>
  queryOptions({
    queryKey: keys.classConversations(id),
    queryFn: () => ok(api.GET('/api/classes/{id}/conversations', path(id))),
  });

export const assignmentsQuery = (id: string) =>
  queryOptions({
    queryKey: keys.assignments(id),
    queryFn: () => ok(api.GET('/api/classes/{id}/assignments', path(id))),
  });

/** One assignment; `null` when there is none (any more), or it is not assigned to the person. */
export const assignmentQuery = (id: string, aid: string) =>
  queryOptions({
    queryKey: keys.assignment(id, aid),
    queryFn: () =>
      fetchAssignment(id, aid).catch((e: unknown) => {
        if (e instanceof ApiError && e.code === 'not_found') return null;
        throw e;
      }),
  });

export function fetchAssignment(id: string, aid: string) {
  return ok(api.GET('/api/classes/{id}/assignments/{aid}', inAssignment(id, aid)));
}

export const submissionsQuery = (id: string, aid: string) =>
  queryOptions({
    queryKey: keys.submissions(id, aid),
    queryFn: () =>
      ok(api.GET('/api/classes/{id}/assignments/{aid}/submissions', inAssignment(id, aid))).catch(
        (e: unknown) => {
          // A draft has no submissions yet (Microsoft answers 404 for them on some tenants).
          if (e instanceof ApiError && e.code === 'not_found') return [];
          throw e;
        },
      ),
  });

export const aboutQuery = () => queryOptions({ queryKey: keys.about, queryFn: () => ok(api.GET('/api/me/about')) });
export const profileQuery = () =>
  queryOptions({ queryKey: keys.profile, queryFn: () => ok(api.GET('/api/me/profile')) });

export const tenantQuery = () =>
  queryOptions({ queryKey: keys.tenant, queryFn: () => ok(api.GET('/api/admin/tenant')) });
/** The latest "enable user access" run; `null` when it never ran. */
export const latestUserAccessQuery = () =>
  queryOptions({
    queryKey: keys.latestUserAccess,
    queryFn: () =>
      ok(api.GET('/api/admin/user-access/latest')).catch((e: unknown) => {
        if (e instanceof ApiError && e.code === 'not_found') return null;
        throw e;
      }),
  });
export const linkedAccountsQuery = () =>
  queryOptions({ queryKey: keys.linkedAccounts, queryFn: () => ok(api.GET('/api/admin/linked-accounts')) });
export const profileFieldsQuery = () =>
  queryOptions({ queryKey: keys.profileFields, queryFn: () => ok(api.GET('/api/admin/profile-fields')) });
export const userQuery = (id: string) =>
  queryOptions({ queryKey: keys.user(id), queryFn: () => ok(api.GET('/api/admin/users/{id}', path(id))) });
export const groupQuery = (id: string) =>
  queryOptions({ queryKey: keys.group(id), queryFn: () => ok(api.GET('/api/admin/groups/{id}', path(id))) });
export const licensesQuery = () =>
  queryOptions({ queryKey: keys.licenses, queryFn: () => ok(api.GET('/api/admin/licenses')) });
export const localAccountsQuery = () =>
  queryOptions({ queryKey: keys.localAccounts, queryFn: () => ok(api.GET('/api/admin/local-accounts')) });
/** The synced group's members with their managers (issue 16). */
export const directoryMembersQuery = () =>
  queryOptions({ queryKey: keys.directoryMembers, queryFn: () => ok(api.GET('/api/admin/directory-sync/members')) });
/** A person's manager and reports from the synced directory (issue 16). */
export const userDirectoryQuery = (id: string) =>
  queryOptions({ queryKey: keys.userDirectory(id), queryFn: () => ok(api.GET('/api/admin/users/{id}/directory', path(id))) });
export const directorySyncQuery = () =>
  queryOptions({ queryKey: keys.directorySync, queryFn: () => ok(api.GET('/api/admin/directory-sync')) });
export const syncStatusQuery = () =>
  queryOptions({ queryKey: keys.syncStatus, queryFn: () => ok(api.GET('/api/admin/sync-status')) });

/** A page of the admin's user list (the query string comes from lib/admin.ts). */
export function fetchUsers(query: string) {
  return ok(api.GET('/api/admin/users', rawQuery(query)));
}

/** A page of a class list. */
export function fetchClasses(q: {
  scope: 'mine' | 'all';
  school_id?: string;
  q?: string;
  cursor?: string | null;
  refresh?: boolean;
}) {
  const query: { scope: 'mine' | 'all'; school_id?: string; q?: string; cursor?: string; refresh?: string } = {
    scope: q.scope,
  };
  if (q.refresh && !q.cursor) query.refresh = '1';
  if (q.scope === 'all' && q.school_id) query.school_id = q.school_id;
  if (q.q?.trim()) query.q = q.q.trim();
  if (q.cursor) query.cursor = q.cursor;
  return ok(api.GET('/api/classes', { params: { query } }));
}

/** A page of groups: by name, or the next page of a search (the cursor carries it). */
export function fetchGroups(q: { search?: string; cursor?: string | null }) {
  const query: { search?: string; cursor?: string } = {};
  if (q.cursor) query.cursor = q.cursor;
  else if (q.search?.trim()) query.search = q.search.trim();
  return ok(api.GET('/api/admin/groups', { params: { query } }));
}
