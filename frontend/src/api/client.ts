// The typed API client. `api` is an `openapi-fetch` client over `schema.ts`, which is generated
// from the OpenAPI document the backend prints (`npm run schema`): each call names its path
// once, as the schema spells it, and gets its parameter, body and answer types from there;
// when the API changes a field, the app stops compiling instead of drifting.
//
//   const cls = await ok(api.GET('/api/classes/{id}', { params: { path: { id } } }));
//
// Reads that pages show go through TanStack Query (queries.ts); this file has no per-path wrappers.
import type { components } from './schema';
import { ApiError, createApiClient, errorOfResponse } from './http';
import { takePrefetched } from './prefetch';

export type Schemas = components['schemas'];
export type Me = Schemas['MeResponse'];
export type Role = Schemas['Role'];

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

/** The app's client (CSRF, error envelope and network failures handled in http.ts), on the
 * page's own origin. The first page's reads may already have been started by the boot script
 * (api/prefetch.ts). */
export const api = createApiClient((r) => takePrefetched(r) ?? fetch(r), globalThis.location?.origin ?? '');

/** The success body of an `api` call; a failure has already been thrown as an `ApiError`. */
export async function ok<T>(call: Promise<{ data?: T }>): Promise<T> {
  return (await call).data as T;
}

/** A ready-made query string (built and unit-tested in lib/), sent as it is. */
export function rawQuery(query: string): { querySerializer: () => string } {
  return { querySerializer: () => query };
}

/** Signs out (this session, or all of them) and forgets the CSRF token bound to it. */
export async function logout(everywhere = false): Promise<void> {
  if (everywhere) await api.POST('/api/auth/logout-all');
  else await api.POST('/api/auth/logout');
  api.resetCsrf();
}

/** Where an assignment's file is uploaded to (raw body, see lib/upload.ts). */
export function assignmentFileUrl(id: string, aid: string, name: string): string {
  return `/api/classes/${seg(id)}/assignments/${seg(aid)}/files?${new URLSearchParams({ name }).toString()}`;
}

/** Where a student's submission file is uploaded to. */
export function submissionFileUrl(id: string, aid: string, sid: string, name: string): string {
  return `/api/classes/${seg(id)}/assignments/${seg(aid)}/submissions/${seg(sid)}/files?${new URLSearchParams({ name }).toString()}`;
}

/** The CSRF token for a raw upload (`fresh`: after `csrf_failed`, ask the server again). */
export async function csrfToken(fresh: boolean): Promise<string> {
  if (fresh) api.resetCsrf();
  const known = api.currentCsrf();
  if (known) return known;
  const me = await ok(api.GET('/api/me'));
  const token = api.currentCsrf() ?? (me as { csrf_token?: string }).csrf_token;
  if (!token) throw new Error('no CSRF token');
  return token;
}
