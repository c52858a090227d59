// The typed API client. Every request and response type comes from `schema.ts`, which is
// generated from the OpenAPI document the backend prints (`npm run schema`); when the API
// changes a field, the app stops compiling instead of drifting.
import type { components, paths } from './schema';
import { createHttpClient, type HttpClient } from './http';

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
  };
}

export type Api = ReturnType<typeof createApi>;
export const api = createApi();
