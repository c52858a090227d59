import { describe, expect, it } from 'vitest';
import { ApiError, createApiClient, type FetchLike } from './http';

const BASE = 'http://edugraph.test';
const createHttpClient = (f: FetchLike) => createApiClient(f, BASE);

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
  const fetchImpl: FetchLike = async (request) => {
    const url = request.url.slice(BASE.length);
    const method = request.method;
    const body = request.body ? await request.text() : undefined;
    calls.push({ url, method, headers: Object.fromEntries(request.headers), body });
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
    await expect(http.POST('/api/auth/local/login', { body: { email: 'a@b.cd', password: 'x' } })).rejects.toMatchObject(
      { status: 401, code: 'invalid_credentials' },
    );
    await expect(http.POST('/api/auth/local/login', { body: { email: '', password: '' } })).rejects.toBeInstanceOf(ApiError);
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'GET /api/auth/csrf',
      'POST /api/auth/local/login',
      'POST /api/auth/local/login',
    ]);
    expect(calls[1]!.headers['x-csrf-token']).toBe('pre-1');
    expect(calls[1]!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(calls[1]!.body!)).toEqual({ email: 'a@b.cd', password: 'x' });
  });

  it('switches to the token of the sign-in (or /api/me) response', async () => {
    const { calls, fetchImpl } = fakeFetch({
      'GET /api/me': [() => json(200, { csrf_token: 'session-1', user: {} })],
      'POST /api/me/password': [() => json(200, { csrf_token: 'session-2' })],
    });
    const http = createHttpClient(fetchImpl);
    await http.GET('/api/me');
    expect(calls[0]!.headers['x-csrf-token']).toBeUndefined();
    await http.POST('/api/me/password', { body: { current_password: 'a', new_password: 'b' } });
    expect(calls[1]!.headers['x-csrf-token']).toBe('session-1');
    expect(http.currentCsrf()).toBe('session-2');
  });

  it('on 403 csrf_failed refreshes the token and retries exactly once', async () => {
    const { calls, fetchImpl } = fakeFetch({
      'GET /api/me': [() => json(200, { csrf_token: 'stale' })],
      'GET /api/auth/csrf': [() => json(200, { csrf_token: 'fresh' })],
      'POST /api/auth/logout': [csrfFailed, () => new Response(null, { status: 204 })],
    });
    const http = createHttpClient(fetchImpl);
    await http.GET('/api/me');
    const { data } = await http.POST('/api/auth/logout');
    expect(data).toBeUndefined();
    expect(calls.map((c) => `${c.method} ${c.url} ${c.headers['x-csrf-token'] ?? ''}`.trim())).toEqual([
      'GET /api/me',
      'POST /api/auth/logout stale',
      'GET /api/auth/csrf',
      'POST /api/auth/logout fresh',
    ]);
  });

  it('sends the body again on the retry, and resolves with the typed answer', async () => {
    const { calls, fetchImpl } = fakeFetch({
      'GET /api/auth/csrf': [() => json(200, { csrf_token: 'fresh' })],
      'POST /api/me/favorite-color': [csrfFailed, () => json(200, { csrf_token: 'next', user: { favorite_color: '#123456' } })],
    });
    const http = createHttpClient(fetchImpl);
    const { data } = await http.POST('/api/me/favorite-color', { body: { favorite_color: '#123456' } });
    expect(data?.user.favorite_color).toBe('#123456');
    const posts = calls.filter((c) => c.method === 'POST');
    expect(posts.map((c) => c.body && JSON.parse(c.body))).toEqual([{ favorite_color: '#123456' }, { favorite_color: '#123456' }]);
    expect(http.currentCsrf()).toBe('next');
  });

  it('gives up after one retry', async () => {
    const { calls, fetchImpl } = fakeFetch({
      'GET /api/auth/csrf': [() => json(200, { csrf_token: 't' })],
      'POST /api/me/favorite-color': [csrfFailed],
    });
    const http = createHttpClient(fetchImpl);
    await expect(http.POST('/api/me/favorite-color', { body: { favorite_color: '#000000' } })).rejects.toMatchObject({
      status: 403,
      code: 'csrf_failed',
    });
    expect(calls.filter((c) => c.url === '/api/me/favorite-color')).toHaveLength(2);
  });

  it('does not retry other 403s', async () => {
    const { calls, fetchImpl } = fakeFetch({
      'GET /api/auth/csrf': [() => json(200, { csrf_token: 't' })],
      'POST /api/auth/local/login': [() => json(403, { error: { code: 'account_disabled', message: 'Disabled.' } })],
    });
    const http = createHttpClient(fetchImpl);
    await expect(http.POST('/api/auth/local/login', { body: { email: '', password: '' } })).rejects.toMatchObject({ code: 'account_disabled' });
    expect(calls).toHaveLength(2);
  });

  it('shares one token request between concurrent requests', async () => {
    const { calls, fetchImpl } = fakeFetch({
      'GET /api/auth/csrf': [() => json(200, { csrf_token: 't' })],
      'POST /api/auth/logout': [() => new Response(null, { status: 204 })],
    });
    const http = createHttpClient(fetchImpl);
    await Promise.all([http.POST('/api/auth/logout'), http.POST('/api/auth/logout')]);
    expect(calls.filter((c) => c.url === '/api/auth/csrf')).toHaveLength(1);
  });

  it('turns transport failures and non-JSON answers into stable codes', async () => {
    const down: FetchLike = async () => {
      throw new TypeError('Failed to fetch');
    };
    await expect(createHttpClient(down).GET('/api/me')).rejects.toMatchObject({ code: 'network_error' });
    const proxy: FetchLike = async () => new Response('<html>Bad gateway</html>', { status: 502 });
    await expect(createHttpClient(proxy).GET('/api/me')).rejects.toMatchObject({
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
    await expect(createHttpClient(fetchImpl).POST('/api/auth/local/login', { body: { email: '', password: '' } })).rejects.toMatchObject({
      code: 'too_many_requests',
      retryAfter: 30,
    });
  });

  it('forgets the token on reset (after sign-out)', async () => {
    const { fetchImpl } = fakeFetch({ 'GET /api/me': [() => json(200, { csrf_token: 's' })] });
    const http = createHttpClient(fetchImpl);
    await http.GET('/api/me');
    http.resetCsrf();
    expect(http.currentCsrf()).toBeNull();
  });

  it("keeps Microsoft Graph's status, code and request id from the error envelope", async () => {
    const graph = { status: 403, code: 'Authorization_RequestDenied', request_id: 'r-42' };
    const { fetchImpl } = fakeFetch({
      'GET /api/classes/x': [() => json(403, { error: { code: 'microsoft_forbidden', message: 'No.', graph } })],
    });
    await expect(createHttpClient(fetchImpl).GET('/api/classes/{id}', { params: { path: { id: 'x' } } })).rejects.toMatchObject({
      code: 'microsoft_forbidden',
      graph,
    });
  });
});
