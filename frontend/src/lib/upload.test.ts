import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/http';
import { MAX_UPLOAD_BYTES, fileProblem, formatBytes, percent, uploadFile, type XhrLike } from './upload';

describe('files are checked before anything is sent (the server’s rules)', () => {
  it('accepts ordinary files up to 50 MB', () => {
    expect(fileProblem({ name: 'essay.docx', size: 12_000 })).toBeUndefined();
    expect(fileProblem({ name: 'Mes devoirs (final) é.pdf', size: MAX_UPLOAD_BYTES })).toBeUndefined();
  });
  it('refuses empty and too large files with the API’s codes', () => {
    expect(fileProblem({ name: 'a.txt', size: 0 })).toBe('empty_file');
    expect(fileProblem({ name: 'video.mp4', size: MAX_UPLOAD_BYTES + 1 })).toBe('file_too_large');
    expect(fileProblem({ name: 'a.txt', size: 11 }, 10)).toBe('file_too_large');
  });
  it('refuses names Microsoft 365 refuses', () => {
    for (const name of ['', '   ', 'a:b.txt', 'what?.txt', 'a#1.txt', '50%.txt', 'dots.', '~$lock.docx', 'a\u0007b', 'x'.repeat(201)]) {
      expect(fileProblem({ name, size: 1 }), name).toBe('invalid_file_name');
    }
    expect(fileProblem({ name: 'x'.repeat(200), size: 1 })).toBeUndefined();
  });
});

describe('upload progress', () => {
  it('is a whole percent, 0 while unknown, never over 100', () => {
    expect(percent(0, 100)).toBe(0);
    expect(percent(1, 3)).toBe(33);
    expect(percent(99.9, 100)).toBe(99);
    expect(percent(100, 100)).toBe(100);
    expect(percent(150, 100)).toBe(100);
    expect(percent(5, 0)).toBe(0);
  });
  it('sizes read like a file manager', () => {
    expect(formatBytes(1)).toBe('1 byte');
    expect(formatBytes(512)).toBe('512 bytes');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(300 * 1024)).toBe('300 KB');
    expect(formatBytes(50 * 1024 * 1024)).toBe('50 MB');
  });
});

/** A fake XMLHttpRequest that reports progress in steps, then answers. */
function fakeXhr(answers: Array<{ status: number; body: unknown }>, log: Array<Record<string, unknown>>) {
  return (): XhrLike => {
    const headers: Record<string, string> = {};
    const x = {
      status: 0,
      responseText: '',
      onload: null as (() => void) | null,
      onerror: null as (() => void) | null,
      onabort: null as (() => void) | null,
      upload: { onprogress: null as XhrLike['upload']['onprogress'] },
      url: '',
      open(_m: string, url: string) {
        x.url = url;
      },
      setRequestHeader(n: string, v: string) {
        headers[n] = v;
      },
      getResponseHeader: () => null,
      abort() {
        x.onabort?.();
      },
      send(body: Blob) {
        log.push({ url: x.url, headers: { ...headers }, size: body.size });
        const a = answers.shift()!;
        queueMicrotask(() => {
          x.upload.onprogress?.({ loaded: body.size / 2, total: body.size, lengthComputable: true });
          x.upload.onprogress?.({ loaded: body.size, total: body.size, lengthComputable: true });
          x.status = a.status;
          x.responseText = JSON.stringify(a.body);
          x.onload?.();
        });
      },
    };
    return x;
  };
}

describe('uploadFile', () => {
  const body = new Blob(['x'.repeat(1000)]);

  it('sends the raw file with the CSRF token and reports progress up to 100 %', async () => {
    const log: Array<Record<string, unknown>> = [];
    const seen: number[] = [];
    const r = await uploadFile<{ id: string }>({
      url: '/api/x/files?name=a.txt',
      body,
      csrf: async () => 'tok',
      onProgress: (l, t) => seen.push(percent(l, t)),
      xhr: fakeXhr([{ status: 201, body: { id: 'r1', kind: 'file' } }], log),
    });
    expect(r.id).toBe('r1');
    expect(log[0]).toMatchObject({
      url: '/api/x/files?name=a.txt',
      size: 1000,
      headers: { 'Content-Type': 'application/octet-stream', 'X-CSRF-Token': 'tok' },
    });
    expect(seen[0]).toBe(0);
    expect(seen).toContain(50);
    expect(seen.at(-1)).toBe(100);
  });

  it('turns refusals into API errors with their codes', async () => {
    const log: Array<Record<string, unknown>> = [];
    const refused = uploadFile({
      url: '/u',
      body,
      csrf: async () => 't',
      xhr: fakeXhr([{ status: 409, body: { error: { code: 'submission_turned_in', message: 'Undo' } } }], log),
    });
    await expect(refused).rejects.toMatchObject({ status: 409, code: 'submission_turned_in' });
    const bare = uploadFile({ url: '/u', body, csrf: async () => 't', xhr: fakeXhr([{ status: 413, body: null }], log) });
    await expect(bare).rejects.toBeInstanceOf(ApiError);
    await expect(bare).rejects.toMatchObject({ code: 'file_too_large' });
  });

  it('retries once with a fresh token after csrf_failed', async () => {
    const log: Array<Record<string, unknown>> = [];
    const asked: boolean[] = [];
    const r = await uploadFile<{ id: string }>({
      url: '/u',
      body,
      csrf: async (fresh) => {
        asked.push(fresh);
        return fresh ? 'new' : 'old';
      },
      xhr: fakeXhr(
        [
          { status: 403, body: { error: { code: 'csrf_failed' } } },
          { status: 201, body: { id: 'r2' } },
        ],
        log,
      ),
    });
    expect(r.id).toBe('r2');
    expect(asked).toEqual([false, true]);
    expect(log.map((l) => (l.headers as Record<string, string>)['X-CSRF-Token'])).toEqual(['old', 'new']);
  });

  it('a cancelled upload says so', async () => {
    const ctrl = new AbortController();
    ctrl.abort();
    await expect(
      uploadFile({ url: '/u', body, csrf: async () => 't', signal: ctrl.signal, xhr: fakeXhr([], []) }),
    ).rejects.toMatchObject({ code: 'upload_cancelled' });
  });
});
