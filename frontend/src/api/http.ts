// The one place the app talks HTTP: an `openapi-fetch` client typed by `schema.ts` (generated
// from the OpenAPI document), with one middleware for what every call needs: JSON, same-origin
// cookies, CSRF, and the error envelope turned into a thrown `ApiError`.
//
// Every state-changing request carries `X-CSRF-Token`. The token comes from the last sign-in
// or `/api/me` response (signed in) or from `GET /api/auth/csrf` (anonymous, which also sets
// the pre-session cookie it is bound to). When the server answers 403 `csrf_failed` (the
// session ended or rotated elsewhere) the token is fetched again and the request retried once.
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { ErrorCode } from './errorCodes';
import type { paths } from './schema';

/** A failed request: the server's stable error code, or one of ours for transport failures. */
export class ApiError extends Error {
  readonly status: number;
  /** An `ErrorCode` of the schema, one of the client's own, or (a newer server) any string. */
  readonly code: ErrorCode | (string & {});
  /** The server's human message, if it sent one. */
  readonly serverMessage: string | undefined;
  /** Seconds to wait (429 `Retry-After`). */
  readonly retryAfter: number | undefined;
  /** Microsoft Graph's own status, code and request id, when Graph refused (for support). */
  readonly graph: GraphInfo | undefined;
  /** `microsoft_signin_required`: where Microsoft confirms the person (our own path). */
  readonly continueUrl: string | undefined;

  constructor(
    status: number,
    code: string,
    serverMessage?: string,
    retryAfter?: number,
    graph?: GraphInfo,
    continueUrl?: string,
  ) {
    super(serverMessage ?? code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.serverMessage = serverMessage;
    this.retryAfter = retryAfter;
    this.graph = graph;
    this.continueUrl = continueUrl;
  }
}

export interface GraphInfo {
  status?: number | null;
  code?: string | null;
  /** Graph's own message (tenant admin endpoints only). */
  message?: string | null;
  request_id?: string | null;
}

export type FetchLike = (input: Request) => Promise<Response>;

/** The typed client: `api.GET('/api/classes/{id}', { params: { path: { id } } })`. A failed
 * answer rejects with an `ApiError`, so `data` is the success body (undefined for 204). */
export type ApiClient = Client<paths> & {
  /** Forgets the CSRF token (after sign-out the old one is bound to a deleted session). */
  resetCsrf(): void;
  /** The token that will be sent next (raw uploads, tests). */
  currentCsrf(): string | null;
};

async function readBody(res: Response): Promise<unknown> {
  if (res.status === 204) return undefined;
  const text = await res.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function errorFrom(res: Response, body: unknown): ApiError {
  const retry = Number(res.headers.get('Retry-After'));
  const retryAfter = Number.isFinite(retry) && retry > 0 ? retry : undefined;
  if (body && typeof body === 'object' && 'error' in body) {
    const e = (body as { error: unknown }).error;
    if (e && typeof e === 'object') {
      const { code, message, graph, continue_url } = e as {
        code?: unknown;
        message?: unknown;
        graph?: unknown;
        continue_url?: unknown;
      };
      if (typeof code === 'string') {
        const g = graph && typeof graph === 'object' ? (graph as GraphInfo) : undefined;
        // Only our own paths (never another origin), whatever the body says.
        const next = typeof continue_url === 'string' && /^\/[^/\\]/.test(continue_url) ? continue_url : undefined;
        return new ApiError(res.status, code, typeof message === 'string' ? message : undefined, retryAfter, g, next);
      }
    }
  }
  return new ApiError(res.status, res.status >= 500 ? 'bad_gateway' : 'unexpected_response', undefined, retryAfter);
}

/** The error of a failed non-JSON request (a file download): the server's envelope when it sent one. */
export async function errorOfResponse(res: Response): Promise<ApiError> {
  return errorFrom(res, await readBody(res));
}

function csrfTokenOf(body: unknown): string | undefined {
  if (body && typeof body === 'object' && 'csrf_token' in body) {
    const t = (body as { csrf_token: unknown }).csrf_token;
    if (typeof t === 'string' && t) return t;
  }
  return undefined;
}

const SAFE: ReadonlySet<string> = new Set(['GET', 'HEAD']);

/**
 * The app's API client. `fetchImpl` and `baseUrl` are for tests (Node needs absolute URLs);
 * the browser uses the page's origin.
 */
export function createApiClient(fetchImpl: FetchLike = (r) => fetch(r), baseUrl = ''): ApiClient {
  let csrf: string | null = null;
  let pending: Promise<string> | null = null;
  /** How to send each state-changing request again (after a `csrf_failed`, with a fresh token). */
  const retries = new WeakMap<Request, () => Promise<Request>>();

  async function send(request: Request): Promise<Response> {
    try {
      return await fetchImpl(request);
    } catch {
      throw new ApiError(0, 'network_error');
    }
  }

  async function fetchToken(): Promise<string> {
    const res = await send(
      new Request(`${baseUrl}/api/auth/csrf`, { credentials: 'same-origin', headers: { Accept: 'application/json' } }),
    );
    const body = await readBody(res);
    const token = res.ok ? csrfTokenOf(body) : undefined;
    if (!token) throw errorFrom(res, body);
    csrf = token;
    return token;
  }

  function token(): Promise<string> {
    if (csrf) return Promise.resolve(csrf);
    // Concurrent requests share one token fetch.
    pending ??= fetchToken().finally(() => {
      pending = null;
    });
    return pending;
  }

  const middleware: Middleware = {
    async onRequest({ request }) {
      request.headers.set('Accept', 'application/json');
      if (SAFE.has(request.method)) return undefined;
      // The body as text, not a cloned stream: a retry can send it again, and the browser
      // (and its devtools) see a plain body rather than an upload stream.
      const body = request.body === null ? undefined : await request.text();
      const { url, method, headers, credentials, redirect, signal } = request;
      const build = async () => {
        const r = new Request(url, { method, headers, body, credentials, redirect, signal });
        r.headers.set('X-CSRF-Token', await token());
        return r;
      };
      const first = await build();
      retries.set(first, build);
      return first;
    },
    async onResponse({ request, response }) {
      let res = response;
      let body = await readBody(res.clone());
      const again = retries.get(request);
      if (again && res.status === 403 && errorFrom(res, body).code === 'csrf_failed') {
        csrf = null;
        res = await send(await again());
        body = await readBody(res.clone());
      }
      const fresh = csrfTokenOf(body);
      if (fresh) csrf = fresh;
      if (!res.ok) throw errorFrom(res, body);
      return res;
    },
    onError() {
      return new ApiError(0, 'network_error');
    },
  };

  const client = createClient<paths>({ baseUrl, fetch: fetchImpl, credentials: 'same-origin' });
  client.use(middleware);
  return Object.assign(client, {
    resetCsrf: () => {
      csrf = null;
    },
    currentCsrf: () => csrf,
  });
}
