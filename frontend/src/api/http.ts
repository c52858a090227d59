// The one place the app talks HTTP: JSON in and out, same-origin cookies, and CSRF.
//
// Every state-changing request carries `X-CSRF-Token`. The token comes from the last sign-in
// or `/api/me` response (signed in) or from `GET /api/auth/csrf` (anonymous, which also sets
// the pre-session cookie it is bound to). When the server answers 403 `csrf_failed` (the
// session ended or rotated elsewhere) the token is fetched again and the request retried once.

/** A failed request: the server's stable error code, or one of ours for transport failures. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** The server's human message, if it sent one. */
  readonly serverMessage: string | undefined;
  /** Seconds to wait (429 `Retry-After`). */
  readonly retryAfter: number | undefined;
  /** Microsoft Graph's own status, code and request id, when Graph refused (for support). */
  readonly graph: GraphInfo | undefined;

  constructor(status: number, code: string, serverMessage?: string, retryAfter?: number, graph?: GraphInfo) {
    super(serverMessage ?? code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.serverMessage = serverMessage;
    this.retryAfter = retryAfter;
    this.graph = graph;
  }
}

export interface GraphInfo {
  status?: number | null;
  code?: string | null;
  /** Graph's own message (tenant admin endpoints only). */
  message?: string | null;
  request_id?: string | null;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

const SAFE: ReadonlySet<Method> = new Set(['GET']);

export interface HttpClient {
  /** Sends a request; resolves with the parsed JSON body (undefined for 204). */
  request<T>(method: Method, path: string, body?: unknown): Promise<T>;
  /** Forgets the CSRF token (after sign-out the old one is bound to a deleted session). */
  resetCsrf(): void;
  /** The token that will be sent next (tests). */
  currentCsrf(): string | null;
}

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
      const { code, message, graph } = e as { code?: unknown; message?: unknown; graph?: unknown };
      if (typeof code === 'string') {
        const g = graph && typeof graph === 'object' ? (graph as GraphInfo) : undefined;
        return new ApiError(res.status, code, typeof message === 'string' ? message : undefined, retryAfter, g);
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

export function createHttpClient(fetchImpl: FetchLike = (i, init) => fetch(i, init)): HttpClient {
  let csrf: string | null = null;
  let pending: Promise<string> | null = null;

  async function send(input: string, init: RequestInit): Promise<Response> {
    try {
      return await fetchImpl(input, { credentials: 'same-origin', ...init });
    } catch {
      throw new ApiError(0, 'network_error');
    }
  }

  async function fetchToken(): Promise<string> {
    const res = await send('/api/auth/csrf', { headers: { Accept: 'application/json' } });
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

  async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const safe = SAFE.has(method);
    const attempt = async (): Promise<Response> => {
      const headers: Record<string, string> = { Accept: 'application/json' };
      if (!safe) headers['X-CSRF-Token'] = await token();
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      return send(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    };
    let res = await attempt();
    let parsed = await readBody(res);
    if (!safe && res.status === 403 && errorFrom(res, parsed).code === 'csrf_failed') {
      csrf = null;
      res = await attempt();
      parsed = await readBody(res);
    }
    const fresh = csrfTokenOf(parsed);
    if (fresh) csrf = fresh;
    if (!res.ok) throw errorFrom(res, parsed);
    return parsed as T;
  }

  return {
    request,
    resetCsrf: () => {
      csrf = null;
    },
    currentCsrf: () => csrf,
  };
}
