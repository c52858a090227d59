import { describe, expect, it } from 'vitest';
import { ApiError, createHttpClient, type FetchLike } from './http';

type Call = { url: string; method: string; headers: Record<string, string>; body: string | undefined };

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

/** A fake server: answers from a queue per "METHOD path", records every call. */
function fakeFetch(routes: Record<string, Array<() => Response>>) {
  const calls: Call[] = [];
  const fetchImpl: FetchLike = async (url, init = {}) => {
    const method = init.method ?? 'GET';
    calls.push({ url, method, headers: (init.headers ?? {}) as Record<string, string>, body: init.body as string });
    const queue = routes[`${method} ${url}`];
    const next = queue?.length && queue.length > 1 ? queue.shift() : queue?.[0];
    if (!next) throw new Error(`unexpected ${method} ${url}`);
    return next();
  };
  return { calls, fetchImpl };
}

const csrfFailed = () => json(403, { error: { code: 'csrf_failed', message: 'CSRF token missing or invalid.' } });

describe('the CSRF-aware client', () => {
  it('fetches an anonymous token once and sends it on state-changing requests', async () => {
    const { calls, fetchImpl } = fakeFetch({
      'GET /api/auth/csrf': [() => json(200, { csrf_token: 'pre-1' })],
      'POST /api/auth/local/login': [() => json(401, { error: { code: 'invalid_credentials', message: 'no' } })],
    });
    const http = createHttpClient(fetchImpl);
    await expect(http.request('POST', '/api/auth/local/login', { email: 'a@b.cd', password: 'x' })).rejects.toMatchObject(
      { status: 401, code: 'invalid_credentials' },
    );
    await expect(http.request('POST', '/api/auth/local/login', {})).rejects.toBeInstanceOf(ApiError);
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'GET /api/auth/csrf',
      'POST /api/auth/local/login',
      'POST /api/auth/local/login',
    ]);
    expect(calls[1]!.headers['X-CSRF-Token']).toBe('pre-1');
    expect(calls[1]!.headers['Content-Type']).toBe('application/json');
    expect(JSON.parse(calls[1]!.body!)).toEqual({ email: 'a@b.cd', password: 'x' });
  });

  it('switches to the token of the sign-in (or /api/me) response', async () => {
    const { calls, fetchImpl } = fakeFetch({
      'GET /api/me': [() => json(200, { csrf_token: 'session-1', user: {} })],
      'POST /api/me/password': [() => json(200, { csrf_token: 'session-2' })],
    });
    const http = createHttpClient(fetchImpl);
    await http.request('GET', '/api/me');
    expect(calls[0]!.headers['X-CSRF-Token']).toBeUndefined();
    await http.request('POST', '/api/me/password', {});
    expect(calls[1]!.headers['X-CSRF-Token']).toBe('session-1');
    expect(http.currentCsrf()).toBe('session-2');
  });

  it('on 403 csrf_failed refreshes the token and retries exactly once', async () => {
    const { calls, fetchImpl } = fakeFetch({
      'GET /api/me': [() => json(200, { csrf_token: 'stale' })],
      'GET /api/auth/csrf': [() => json(200, { csrf_token: 'fresh' })],
      'POST /api/auth/logout': [csrfFailed, () => new Response(null, { status: 204 })],
    });
    const http = createHttpClient(fetchImpl);
    await http.request('GET', '/api/me');
    await expect(http.request('POST', '/api/auth/logout')).resolves.toBeUndefined();
    expect(calls.map((c) => `${c.method} ${c.url} ${c.headers['X-CSRF-Token'] ?? ''}`.trim())).toEqual([
      'GET /api/me',
      'POST /api/auth/logout stale',
      'GET /api/auth/csrf',
      'POST /api/auth/logout fresh',
    ]);
  });

  it('gives up after one retry', async () => {
    const { calls, fetchImpl } = fakeFetch({
      'GET /api/auth/csrf': [() => json(200, { csrf_token: 't' })],
      'POST /api/x': [csrfFailed],
    });
    const http = createHttpClient(fetchImpl);
    await expect(http.request('POST', '/api/x', {})).rejects.toMatchObject({ status: 403, code: 'csrf_failed' });
    expect(calls.filter((c) => c.url === '/api/x')).toHaveLength(2);
  });

  it('does not retry other 403s', async () => {
    const { calls, fetchImpl } = fakeFetch({
      'GET /api/auth/csrf': [() => json(200, { csrf_token: 't' })],
      'POST /api/auth/local/login': [() => json(403, { error: { code: 'account_disabled', message: 'Disabled.' } })],
    });
    const http = createHttpClient(fetchImpl);
    await expect(http.request('POST', '/api/auth/local/login', {})).rejects.toMatchObject({ code: 'account_disabled' });
    expect(calls).toHaveLength(2);
  });

  it('shares one token request between concurrent requests', async () => {
    const { calls, fetchImpl } = fakeFetch({
      'GET /api/auth/csrf': [() => json(200, { csrf_token: 't' })],
      'POST /api/a': [() => json(200, {})],
    });
    const http = createHttpClient(fetchImpl);
    await Promise.all([http.request('POST', '/api/a', {}), http.request('POST', '/api/a', {})]);
    expect(calls.filter((c) => c.url === '/api/auth/csrf')).toHaveLength(1);
  });

  it('turns transport failures and non-JSON answers into stable codes', async () => {
    const down: FetchLike = async () => {
      throw new TypeError('Failed to fetch');
    };
    await expect(createHttpClient(down).request('GET', '/api/me')).rejects.toMatchObject({ code: 'network_error' });
    const proxy: FetchLike = async () => new Response('<html>Bad gateway</html>', { status: 502 });
    await expect(createHttpClient(proxy).request('GET', '/api/me')).rejects.toMatchObject({
      status: 502,
      code: 'bad_gateway',
    });
  });

  it('reads Retry-After on 429', async () => {
    const { fetchImpl } = fakeFetch({
      'GET /api/auth/csrf': [() => json(200, { csrf_token: 't' })],
      'POST /api/auth/local/login': [
        () => json(429, { error: { code: 'too_many_requests', message: 'Too many.' } }, { 'Retry-After': '30' }),
      ],
    });
    await expect(createHttpClient(fetchImpl).request('POST', '/api/auth/local/login', {})).rejects.toMatchObject({
      code: 'too_many_requests',
      retryAfter: 30,
    });
  });

  it('forgets the token on reset (after sign-out)', async () => {
    const { fetchImpl } = fakeFetch({ 'GET /api/me': [() => json(200, { csrf_token: 's' })] });
    const http = createHttpClient(fetchImpl);
    await http.request('GET', '/api/me');
    http.resetCsrf();
    expect(http.currentCsrf()).toBeNull();
  });

  it("keeps Microsoft Graph's status, code and request id from the error envelope", async () => {
    const graph = { status: 403, code: 'Authorization_RequestDenied', request_id: 'r-42' };
    const { fetchImpl } = fakeFetch({
      'GET /api/classes/x': [() => json(403, { error: { code: 'microsoft_forbidden', message: 'No.', graph } })],
    });
    await expect(createHttpClient(fetchImpl).request('GET', '/api/classes/x')).rejects.toMatchObject({
      code: 'microsoft_forbidden',
      graph,
    });
  });
});
