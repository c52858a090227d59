// The typed API client. Every request and response type comes from `schema.ts`, which is
// generated from the OpenAPI document the backend prints (`npm run schema`); when the API
// changes a field, the app stops compiling instead of drifting.
import type { components, paths } from './schema';
import { ApiError, createHttpClient, errorOfResponse, type HttpClient } from './http';

export type Schemas = components['schemas'];
export type Me = Schemas['MeResponse'];
export type Role = Schemas['Role'];

type JsonOf<T> = T extends { content: { 'application/json': infer B } } ? B : undefined;
/** The JSON request body of an operation. */
export type RequestBody<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody: infer R;
}
  ? JsonOf<R>
  : never;
/** The JSON body of an operation's success answer (200 or 201; undefined for 204). */
export type Ok<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { responses: infer R }
  ? R extends { 200: infer S }
    ? JsonOf<S>
    : R extends { 201: infer S }
      ? JsonOf<S>
      : undefined
  : never;

export type SubmissionAction = 'submit' | 'unsubmit' | 'return' | 'reassign';
export type ClassDetails = Schemas['ClassDetailsResponse'];
export type Member = Schemas['MemberDto'];
export type Assignment = Schemas['AssignmentDto'];
export type Submission = Schemas['SubmissionDto'];
export type ClassItem = Schemas['ClassDto'];
export type School = Schemas['SchoolDto'];
export type AssignmentDetails = Schemas['AssignmentDetailsDto'];
export type Resource = Schemas['ResourceDto'];
export type SubmissionResource = Schemas['SubmissionResourceDto'];
export type SchoolPerson = Schemas['SchoolPersonDto'];
export type PeopleTab = 'all' | 'teachers' | 'students';

/** One path segment (ids come from the API, but never trust them into a URL unescaped). */
const seg = (s: string) => encodeURIComponent(s);

/** The URL of a person's photo (the server answers a default avatar when there is none). */
export function photoUrl(personId: string): string {
  return `/api/people/${seg(personId)}/photo`;
}

/** Downloads a file of the API (a CSV export) as a Blob; a refusal becomes an ApiError. */
export async function downloadFile(path: string, fetchImpl: typeof fetch = (i, init) => fetch(i, init)): Promise<Blob> {
  let res: Response;
  try {
    res = await fetchImpl(path, { credentials: 'same-origin', headers: { Accept: 'text/csv, application/json' } });
  } catch {
    throw new ApiError(0, 'network_error');
  }
  if (!res.ok) throw await errorOfResponse(res);
  try {
    return await res.blob();
  } catch {
    // The server cuts a stream short when Microsoft fails in the middle of it.
    throw new ApiError(0, 'download_interrupted');
  }
}

export function createApi(http: HttpClient = createHttpClient()) {
  return {
    http,
    me: () => http.request<Ok<'/api/me', 'get'>>('GET', '/api/me'),
    login: (body: RequestBody<'/api/auth/local/login', 'post'>) =>
      http.request<Ok<'/api/auth/local/login', 'post'>>('POST', '/api/auth/local/login', body),
    register: (body: RequestBody<'/api/auth/local/register', 'post'>) =>
      http.request<Ok<'/api/auth/local/register', 'post'>>('POST', '/api/auth/local/register', body),
    changePassword: (body: RequestBody<'/api/me/password', 'post'>) =>
      http.request<Ok<'/api/me/password', 'post'>>('POST', '/api/me/password', body),
    logout: async () => {
      await http.request<Ok<'/api/auth/logout', 'post'>>('POST', '/api/auth/logout');
      http.resetCsrf();
    },
    logoutAll: async () => {
      await http.request<Ok<'/api/auth/logout-all', 'post'>>('POST', '/api/auth/logout-all');
      http.resetCsrf();
    },
    microsoftHint: () => http.request<Ok<'/api/auth/microsoft/hint', 'get'>>('GET', '/api/auth/microsoft/hint'),

    // Linking
    createLocal: (body: RequestBody<'/api/me/link/local/create', 'post'>) =>
      http.request<Ok<'/api/me/link/local/create', 'post'>>('POST', '/api/me/link/local/create', body),
    linkExisting: (body: RequestBody<'/api/me/link/local/existing', 'post'>) =>
      http.request<Ok<'/api/me/link/local/existing', 'post'>>('POST', '/api/me/link/local/existing', body),
    /** Unlinks; resolves with the new state, or undefined when this (Microsoft) session ended. */
    unlinkMicrosoft: () => http.request<Me | undefined>('POST', '/api/me/link/microsoft/remove'),
    microsoftProfile: () => http.request<Ok<'/api/me/microsoft', 'get'>>('GET', '/api/me/microsoft'),
    setFavoriteColor: (favorite_color: string) =>
      http.request<Ok<'/api/me/favorite-color', 'post'>>('POST', '/api/me/favorite-color', { favorite_color }),

    // About me, profile
    about: () => http.request<Ok<'/api/me/about', 'get'>>('GET', '/api/me/about'),
    myProfile: () => http.request<Ok<'/api/me/profile', 'get'>>('GET', '/api/me/profile'),
    updateProfile: (changes: Record<string, string | null>) =>
      http.request<Ok<'/api/me/profile', 'post'>>('POST', '/api/me/profile', { changes }),

    // Schools and classes
    schools: () => http.request<Ok<'/api/schools', 'get'>>('GET', '/api/schools'),
    classes: (q: { scope: 'mine' | 'all'; school_id?: string; q?: string; cursor?: string | null }) => {
      const p = new URLSearchParams({ scope: q.scope });
      if (q.scope === 'all' && q.school_id) p.set('school_id', q.school_id);
      if (q.q?.trim()) p.set('q', q.q.trim());
      if (q.cursor) p.set('cursor', q.cursor);
      return http.request<Ok<'/api/classes', 'get'>>('GET', `/api/classes?${p.toString()}`);
    },
    schoolPeople: (id: string, q: { tab: PeopleTab; cursor?: string | null }) => {
      const p = new URLSearchParams({ role: q.tab });
      if (q.cursor) p.set('cursor', q.cursor);
      return http.request<Ok<'/api/schools/{id}/people', 'get'>>('GET', `/api/schools/${seg(id)}/people?${p.toString()}`);
    },
    classDetails: (id: string) => http.request<Ok<'/api/classes/{id}', 'get'>>('GET', `/api/classes/${seg(id)}`),
    seating: (id: string) => http.request<Ok<'/api/classes/{id}/seating', 'get'>>('GET', `/api/classes/${seg(id)}/seating`),
    saveSeating: (id: string, body: RequestBody<'/api/classes/{id}/seating', 'put'>) =>
      http.request<Ok<'/api/classes/{id}/seating', 'put'>>('PUT', `/api/classes/${seg(id)}/seating`, body),
    addTeacher: (id: string, teacher_id: string) =>
      http.request<undefined>('POST', `/api/classes/${seg(id)}/teachers`, { teacher_id }),
    sendMail: (id: string, body: RequestBody<'/api/classes/{id}/mail', 'post'>) =>
      http.request<Schemas['ClassMailResponse']>('POST', `/api/classes/${seg(id)}/mail`, body),

    // Assignments
    assignments: (id: string) =>
      http.request<Ok<'/api/classes/{id}/assignments', 'get'>>('GET', `/api/classes/${seg(id)}/assignments`),
    createAssignment: (id: string, body: RequestBody<'/api/classes/{id}/assignments', 'post'>) =>
      http.request<Ok<'/api/classes/{id}/assignments', 'post'>>('POST', `/api/classes/${seg(id)}/assignments`, body),
    addLink: (id: string, aid: string, body: RequestBody<'/api/classes/{id}/assignments/{aid}/links', 'post'>) =>
      http.request<undefined>('POST', `/api/classes/${seg(id)}/assignments/${seg(aid)}/links`, body),
    publishAssignment: (id: string, aid: string) =>
      http.request<Ok<'/api/classes/{id}/assignments/{aid}/publish', 'post'>>(
        'POST',
        `/api/classes/${seg(id)}/assignments/${seg(aid)}/publish`,
      ),
    deleteAssignment: (id: string, aid: string) =>
      http.request<undefined>('DELETE', `/api/classes/${seg(id)}/assignments/${seg(aid)}`),
    assignment: (id: string, aid: string) =>
      http.request<Ok<'/api/classes/{id}/assignments/{aid}', 'get'>>('GET', `/api/classes/${seg(id)}/assignments/${seg(aid)}`),
    updateAssignment: (id: string, aid: string, body: RequestBody<'/api/classes/{id}/assignments/{aid}', 'patch'>) =>
      http.request<Ok<'/api/classes/{id}/assignments/{aid}', 'patch'>>(
        'PATCH',
        `/api/classes/${seg(id)}/assignments/${seg(aid)}`,
        body,
      ),
    /** Where an assignment's file is uploaded to (raw body, see lib/upload.ts). */
    assignmentFileUrl: (id: string, aid: string, name: string) =>
      `/api/classes/${seg(id)}/assignments/${seg(aid)}/files?${new URLSearchParams({ name }).toString()}`,
    /** Where a student's submission file is uploaded to. */
    submissionFileUrl: (id: string, aid: string, sid: string, name: string) =>
      `/api/classes/${seg(id)}/assignments/${seg(aid)}/submissions/${seg(sid)}/files?${new URLSearchParams({ name }).toString()}`,
    /** The CSRF token for a raw upload (`fresh`: after `csrf_failed`, ask the server again). */
    csrfToken: async (fresh: boolean): Promise<string> => {
      if (fresh) http.resetCsrf();
      const known = http.currentCsrf();
      if (known) return known;
      const me = await http.request<Ok<'/api/me', 'get'>>('GET', '/api/me');
      const token = http.currentCsrf() ?? (me as { csrf_token?: string }).csrf_token;
      if (!token) throw new Error('no CSRF token');
      return token;
    },
    submissions: (id: string, aid: string) =>
      http.request<Ok<'/api/classes/{id}/assignments/{aid}/submissions', 'get'>>(
        'GET',
        `/api/classes/${seg(id)}/assignments/${seg(aid)}/submissions`,
      ),
    submissionAction: (id: string, aid: string, sid: string, action: SubmissionAction) =>
      http.request<Ok<'/api/classes/{id}/assignments/{aid}/submissions/{sid}/{action}', 'post'>>(
        'POST',
        `/api/classes/${seg(id)}/assignments/${seg(aid)}/submissions/${seg(sid)}/${action}`,
      ),

    // Tenant admins
    adminTenant: () => http.request<Ok<'/api/admin/tenant', 'get'>>('GET', '/api/admin/tenant'),
    unconsent: () => http.request<undefined>('POST', '/api/admin/tenant/unconsent'),
    linkedAccounts: () => http.request<Ok<'/api/admin/linked-accounts', 'get'>>('GET', '/api/admin/linked-accounts'),
    unlinkAccount: (id: string) => http.request<undefined>('POST', `/api/admin/linked-accounts/${seg(id)}/unlink`),
    clearTokenCache: () =>
      http.request<Ok<'/api/admin/token-cache/clear', 'post'>>('POST', '/api/admin/token-cache/clear'),
    enableUserAccess: () => http.request<Schemas['JobView']>('POST', '/api/admin/user-access/enable'),
    latestUserAccess: () =>
      http.request<Ok<'/api/admin/user-access/latest', 'get'>>('GET', '/api/admin/user-access/latest'),
    job: (id: string) => http.request<Ok<'/api/admin/jobs/{id}', 'get'>>('GET', `/api/admin/jobs/${seg(id)}`),
    recentJobs: (kind: string, limit = 5) =>
      http.request<Ok<'/api/admin/jobs', 'get'>>(
        'GET',
        `/api/admin/jobs?kind=${encodeURIComponent(kind)}&limit=${limit}`,
      ),
    profileFields: () => http.request<Ok<'/api/admin/profile-fields', 'get'>>('GET', '/api/admin/profile-fields'),
    setProfileFields: (editable: string[]) =>
      http.request<Ok<'/api/admin/profile-fields', 'put'>>('PUT', '/api/admin/profile-fields', { editable }),

    // Tenant admin console (issue 7): query strings come from src/lib/admin.ts.
    adminUsers: (query: string) => http.request<Ok<'/api/admin/users', 'get'>>('GET', `/api/admin/users?${query}`),
    adminUser: (id: string) => http.request<Ok<'/api/admin/users/{id}', 'get'>>('GET', `/api/admin/users/${seg(id)}`),
    createAdminUser: (body: RequestBody<'/api/admin/users', 'post'>) =>
      http.request<Ok<'/api/admin/users', 'post'>>('POST', '/api/admin/users', body),
    updateAdminUser: (id: string, body: RequestBody<'/api/admin/users/{id}', 'patch'>) =>
      http.request<undefined>('PATCH', `/api/admin/users/${seg(id)}`, body),
    setAdminUserEnabled: (id: string, enabled: boolean) =>
      http.request<undefined>('POST', `/api/admin/users/${seg(id)}/${enabled ? 'enable' : 'disable'}`),
    assignLicenses: (id: string, body: RequestBody<'/api/admin/users/{id}/licenses', 'post'>) =>
      http.request<Ok<'/api/admin/users/{id}/licenses', 'post'>>('POST', `/api/admin/users/${seg(id)}/licenses`, body),
    adminGroups: (q: { search?: string; cursor?: string | null }) => {
      const p = new URLSearchParams();
      if (q.cursor) p.set('cursor', q.cursor);
      else if (q.search?.trim()) p.set('search', q.search.trim());
      return http.request<Ok<'/api/admin/groups', 'get'>>('GET', `/api/admin/groups?${p.toString()}`);
    },
    adminGroup: (id: string) => http.request<Ok<'/api/admin/groups/{id}', 'get'>>('GET', `/api/admin/groups/${seg(id)}`),
    groupMembers: (id: string, cursor?: string | null) =>
      http.request<Ok<'/api/admin/groups/{id}/members', 'get'>>(
        'GET',
        `/api/admin/groups/${seg(id)}/members${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`,
      ),
    addGroupMember: (id: string, member_id: string) =>
      http.request<undefined>('POST', `/api/admin/groups/${seg(id)}/members`, { member_id }),
    removeGroupMember: (id: string, memberId: string) =>
      http.request<undefined>('DELETE', `/api/admin/groups/${seg(id)}/members/${seg(memberId)}`),
    bulkAddMembers: (id: string, member_ids: string[]) =>
      http.request<Schemas['JobView']>('POST', `/api/admin/groups/${seg(id)}/members/bulk`, { member_ids }),
    licenses: () => http.request<Ok<'/api/admin/licenses', 'get'>>('GET', '/api/admin/licenses'),
    bulkAssignLicense: (sku_id: string, user_ids: string[]) =>
      http.request<Schemas['JobView']>('POST', '/api/admin/licenses/bulk-assign', { sku_id, user_ids }),
    jobItems: (id: string, after?: number | null) =>
      http.request<Ok<'/api/admin/jobs/{id}/items', 'get'>>(
        'GET',
        `/api/admin/jobs/${seg(id)}/items?limit=100${after !== undefined && after !== null ? `&after=${after}` : ''}`,
      ),
    localAccounts: () => http.request<Ok<'/api/admin/local-accounts', 'get'>>('GET', '/api/admin/local-accounts'),
    deleteLocalAccount: (id: string) => http.request<undefined>('DELETE', `/api/admin/local-accounts/${seg(id)}`),
    audit: (query: string) => http.request<Ok<'/api/admin/audit', 'get'>>('GET', `/api/admin/audit?${query}`),
    directorySync: () => http.request<Ok<'/api/admin/directory-sync', 'get'>>('GET', '/api/admin/directory-sync'),
    syncStatus: () => http.request<Ok<'/api/admin/sync-status', 'get'>>('GET', '/api/admin/sync-status'),
    setDirectorySync: (body: RequestBody<'/api/admin/directory-sync', 'put'>) =>
      http.request<Ok<'/api/admin/directory-sync', 'put'>>('PUT', '/api/admin/directory-sync', body),
    clearDirectorySync: () => http.request<undefined>('DELETE', '/api/admin/directory-sync'),
  };
}

export type Api = ReturnType<typeof createApi>;
export const api = createApi();
