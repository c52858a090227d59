// The boot script (boot.ts) starts a page's first reads before the app runs; the app takes
// each answer only when it asks for exactly the same URL. These tests run the pages' own
// queries and check that the URLs agree (a mismatch would cost a second request, and a Graph
// read, instead of saving one), and that an answer is taken once and only for a GET.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BOOT_KEY, CHUNKS_ID, bootRequests, routeChunks } from './boot';
import { ROUTE_MODULES, type RouteName } from './routes';

const ORIGIN = 'http://edu.test';
const seen: string[] = [];

beforeAll(() => {
  vi.stubGlobal('location', { origin: ORIGIN });
  vi.stubGlobal(
    'fetch',
    vi.fn(async (r: Request) => {
      seen.push(r.url.slice(ORIGIN.length));
      return new Response('{"error":{"code":"not_found","message":"m"}}', { status: 404, headers: { 'Content-Type': 'application/json' } });
    }),
  );
});

afterEach(() => {
  seen.length = 0;
});

/** The URLs the app's own queries ask for. */
async function appReads(run: () => unknown[]): Promise<string[]> {
  seen.length = 0;
  await Promise.allSettled(run().map((r) => Promise.resolve(r)));
  return [...seen];
}

describe('the boot script reads what the first page reads', () => {
  it('classes, class, assignment, sign-in and admin console pages', async () => {
    const { api, ok } = await import('./api/client');
    const q = await import('./api/queries');
    const id = 'a1b2-c3=';
    const aid = 'x.y_z';
    const me = () => ok(api.GET('/api/me'));

    expect(await appReads(() => [me(), q.fetchClasses({ scope: 'mine' })])).toEqual(bootRequests('/classes', ''));
    expect(await appReads(() => [me(), q.classQuery(id).queryFn!({} as never)])).toEqual(
      bootRequests(`/classes/${encodeURIComponent(id)}`, ''),
    );
    expect(
      await appReads(() => [
        me(),
        q.classQuery(id).queryFn!({} as never),
        q.assignmentQuery(id, aid).queryFn!({} as never),
        q.submissionsQuery(id, aid).queryFn!({} as never),
      ]),
    ).toEqual(bootRequests(`/classes/${encodeURIComponent(id)}/assignments/${encodeURIComponent(aid)}`, ''));
    expect(await appReads(() => [me(), ok(api.GET('/api/auth/microsoft/hint'))])).toEqual(bootRequests('/signin', ''));
    const admin = [q.tenantQuery(), q.latestUserAccessQuery(), q.linkedAccountsQuery(), q.profileFieldsQuery()];
    expect(await appReads(() => [me(), ...admin.map((o) => o.queryFn!({} as never))])).toEqual(bootRequests('/admin', ''));
  });

  it('only /api/me where the page starts with a search or is not worth it', () => {
    expect(bootRequests('/classes', '?scope=all')).toEqual(['/api/me']);
    expect(bootRequests('/admin/users', '')).toEqual(['/api/me']);
    expect(bootRequests('/no/such/page', '')).toEqual(['/api/me']);
  });
});

describe('the chunk map', () => {
  it('names every page module a route shows', async () => {
    const { isPageModule } = await import('./pages/lazy');
    for (const route of Object.keys(ROUTE_MODULES) as RouteName[]) {
      for (const m of ROUTE_MODULES[route]) expect(isPageModule(m), `${route}: ${m}`).toBe(true);
    }
  });

  it('preloads the chunks of the page the address shows, once each', () => {
    const map = { ClassPage: ['/assets/ClassPage-1.js', '/assets/common-2.js'], Home: ['/assets/Home-3.js', '/assets/common-2.js'], SignIn: ['/assets/SignIn-4.js'] };
    expect(routeChunks('/classes/c1', map)).toEqual(['/assets/ClassPage-1.js', '/assets/common-2.js']);
    expect(routeChunks('/', map)).toEqual(['/assets/Home-3.js', '/assets/common-2.js', '/assets/SignIn-4.js']);
    expect(routeChunks('/about', map)).toEqual([]);
  });

  it('keeps the names prefetch.ts and index.html use', async () => {
    expect(BOOT_KEY).toBe('__edugraphBoot');
    expect(CHUNKS_ID).toBe('edugraph-chunks');
    expect((await import('./api/prefetch')).BOOT_KEY).toBe(BOOT_KEY);
  });
});

describe('the app takes a boot answer once, for a GET of the same URL', () => {
  it('then asks the server', async () => {
    const { takePrefetched, dropPrefetched } = await import('./api/prefetch');
    const answer = Promise.resolve(new Response('{}'));
    vi.stubGlobal('window', { [BOOT_KEY]: { started: performance.now(), responses: new Map([[`${ORIGIN}/api/me`, answer], [`${ORIGIN}/api/x`, answer]]) } });
    try {
      expect(takePrefetched(new Request(`${ORIGIN}/api/me`, { method: 'POST' }))).toBeUndefined();
      expect(takePrefetched(new Request(`${ORIGIN}/api/me`))).toBe(answer);
      expect(takePrefetched(new Request(`${ORIGIN}/api/me`))).toBeUndefined();
      dropPrefetched();
      expect(takePrefetched(new Request(`${ORIGIN}/api/x`))).toBeUndefined();
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
