// The class page and the assignment page share the class query: opening an assignment from
// the class does not send `GET /api/classes/{id}` (a 6-request Microsoft Graph batch) again.
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';

const BASE = 'http://edugraph.test';
const calls: string[] = [];
let answers: Record<string, () => Response> = {};
vi.stubGlobal('location', { origin: BASE });
vi.stubGlobal('fetch', async (request: Request) => {
  const key = `${request.method} ${request.url.slice(BASE.length)}`;
  calls.push(key);
  const answer = answers[key];
  if (!answer) throw new Error(`unexpected ${key}`);
  return answer();
});
afterAll(() => {
  vi.unstubAllGlobals();
});

const { assignmentQuery, classQuery, createQueryClient, keys, submissionsQuery } = await import('./queries');

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
const notFound = () => json(404, { error: { code: 'not_found', message: 'Not found.' } });
const details = { my_role: 'teacher', class: { id: 'c1', display_name: 'Math' }, members: [] };

describe('server state', () => {
  beforeEach(() => {
    calls.length = 0;
    answers = { 'GET /api/classes/c1': () => json(200, details) };
  });

  it('reuses the class the class page loaded on its assignment page', async () => {
    const client = createQueryClient();
    // The class page loads the class…
    expect((await client.fetchQuery(classQuery('c1'))).class.display_name).toBe('Math');
    // …and the assignment page, opened from it, reads the same query without a request.
    await client.fetchQuery(classQuery('c1'));
    expect(calls).toEqual(['GET /api/classes/c1']);
  });

  it('asks again once a change to the class invalidated it', async () => {
    const client = createQueryClient();
    await client.fetchQuery(classQuery('c1'));
    await client.invalidateQueries({ queryKey: keys.class('c1'), exact: true });
    await client.fetchQuery(classQuery('c1'));
    expect(calls).toEqual(['GET /api/classes/c1', 'GET /api/classes/c1']);
  });

  it('keys everything of a class under the class, so one call can drop it all', () => {
    expect(keys.assignment('c1', 'a1').slice(0, 2)).toEqual(keys.class('c1'));
    expect(keys.submissions('c1', 'a1').slice(0, 4)).toEqual(keys.assignment('c1', 'a1'));
  });

  it('reads a missing assignment as none, and a draft’s missing submissions as an empty list', async () => {
    answers['GET /api/classes/c1/assignments/a1'] = notFound;
    answers['GET /api/classes/c1/assignments/a1/submissions'] = notFound;
    const client = createQueryClient();
    expect(await client.fetchQuery(assignmentQuery('c1', 'a1'))).toBeNull();
    expect(await client.fetchQuery(submissionsQuery('c1', 'a1'))).toEqual([]);
  });
});
