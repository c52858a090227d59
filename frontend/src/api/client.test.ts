import { describe, expect, it } from 'vitest';
import { downloadFile } from './client';
import { ApiError } from './http';

const fetchOf = (res: Response | Error) => (async () => {
  if (res instanceof Error) throw res;
  return res;
}) as unknown as typeof fetch;

describe('CSV downloads', () => {
  it('returns the file', async () => {
    const blob = await downloadFile('/api/admin/exports/users.csv', fetchOf(new Response('id,display_name\r\n', { status: 200 })));
    expect(await blob.text()).toBe('id,display_name\r\n');
  });

  it('turns a refusal before the first byte into the server’s error, Graph details included', async () => {
    const body = { error: { code: 'microsoft_unavailable', message: 'm', graph: { code: 'generalException', request_id: 'r1' } } };
    const res = new Response(JSON.stringify(body), { status: 503, headers: { 'Content-Type': 'application/json' } });
    const err = await downloadFile('/api/admin/exports/groups.csv', fetchOf(res)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('microsoft_unavailable');
    expect((err as ApiError).graph?.request_id).toBe('r1');
  });

  it('says when the network failed', async () => {
    const err = await downloadFile('/x.csv', fetchOf(new TypeError('failed'))).catch((e: unknown) => e);
    expect((err as ApiError).code).toBe('network_error');
  });
});
