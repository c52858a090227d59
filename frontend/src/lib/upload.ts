// File uploads to the API (assignment and submission files): checks the server would make,
// done before anything is sent, and a raw `application/octet-stream` upload through
// XMLHttpRequest, whose `upload.onprogress` reports the bytes sent (fetch cannot, for a
// request body, without streams the server would have to accept chunked).
import { ApiError } from '../api/http';

/** `EDUGRAPH_MAX_UPLOAD_BYTES`' default (backend/API.md): 50 MiB. */
export const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;

/** Characters Microsoft 365 (and our API) refuse in a file name. */
const BAD_CHARS = /["*:<>?/\\|#%]/;

/** Why a file cannot be uploaded, as the API's error code, or undefined when it can. */
export function fileProblem(
  file: { name: string; size: number },
  max = MAX_UPLOAD_BYTES,
): 'invalid_file_name' | 'empty_file' | 'file_too_large' | undefined {
  const n = file.name.trim();
  const badName =
    !n ||
    Array.from(n).length > 200 ||
    n.endsWith('.') ||
    n.startsWith('~$') ||
    BAD_CHARS.test(n) ||
    // Control characters (U+0000–U+001F, U+007F–U+009F).
    Array.from(n).some((c) => {
      const code = c.codePointAt(0)!;
      return code < 0x20 || (code >= 0x7f && code <= 0x9f);
    });
  if (badName) return 'invalid_file_name';
  if (file.size <= 0) return 'empty_file';
  if (file.size > max) return 'file_too_large';
  return undefined;
}

/** Whole percent of `loaded` of `total`, 0..100 (0 while the total is unknown). */
export function percent(loaded: number, total: number): number {
  if (!(total > 0) || !(loaded > 0)) return 0;
  return Math.min(100, Math.max(0, Math.floor((loaded / total) * 100)));
}

/** A file size for people: `512 bytes`, `12.5 KB`, `3.2 MB` (1 KB = 1024 bytes, as Windows shows). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} byte${n === 1 ? '' : 's'}`;
  const units = ['KB', 'MB', 'GB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** The parts of XMLHttpRequest an upload uses (tests pass a fake). */
export interface XhrLike {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: Blob): void;
  abort(): void;
  readonly status: number;
  readonly responseText: string;
  getResponseHeader(name: string): string | null;
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  readonly upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null };
}

export interface UploadOptions {
  /** API path, e.g. `/api/classes/{id}/assignments/{aid}/files?name=…`. */
  url: string;
  body: Blob;
  /** The CSRF token to send; `fresh` asks for a new one (after `csrf_failed`). */
  csrf: (fresh: boolean) => Promise<string>;
  /** Bytes sent so far, of the total. */
  onProgress?: (loaded: number, total: number) => void;
  signal?: AbortSignal;
  xhr?: () => XhrLike;
}

function parse(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function errorOf(status: number, body: unknown, retryAfter: string | null): ApiError {
  const e = body && typeof body === 'object' && 'error' in body ? (body as { error: unknown }).error : undefined;
  const retry = Number(retryAfter);
  const after = Number.isFinite(retry) && retry > 0 ? retry : undefined;
  if (e && typeof e === 'object' && typeof (e as { code?: unknown }).code === 'string') {
    const { code, message, graph } = e as { code: string; message?: unknown; graph?: unknown };
    return new ApiError(
      status,
      code,
      typeof message === 'string' ? message : undefined,
      after,
      graph && typeof graph === 'object' ? graph : undefined,
    );
  }
  // Without a body: 413 is the size limit (a proxy may answer before the API does).
  if (status === 413) return new ApiError(status, 'file_too_large');
  return new ApiError(status, status >= 500 ? 'bad_gateway' : 'unexpected_response', undefined, after);
}

function once<T>(o: UploadOptions, token: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = (o.xhr ?? (() => new XMLHttpRequest() as unknown as XhrLike))();
    const total = o.body.size;
    xhr.open('POST', o.url);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('X-CSRF-Token', token);
    xhr.upload.onprogress = (e) => o.onProgress?.(e.loaded, e.lengthComputable && e.total > 0 ? e.total : total);
    xhr.onload = () => {
      const body = parse(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) {
        o.onProgress?.(total, total);
        resolve(body as T);
      } else {
        reject(errorOf(xhr.status, body, xhr.getResponseHeader('Retry-After')));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, 'network_error'));
    xhr.onabort = () => reject(new ApiError(0, 'upload_cancelled'));
    if (o.signal) {
      if (o.signal.aborted) {
        reject(new ApiError(0, 'upload_cancelled'));
        return;
      }
      o.signal.addEventListener('abort', () => xhr.abort(), { once: true });
    }
    o.onProgress?.(0, total);
    xhr.send(o.body);
  });
}

/** Uploads a file; resolves with the JSON answer. A `csrf_failed` answer is retried once with a fresh token. */
export async function uploadFile<T>(o: UploadOptions): Promise<T> {
  try {
    return await once<T>(o, await o.csrf(false));
  } catch (e) {
    if (e instanceof ApiError && e.code === 'csrf_failed') return once<T>(o, await o.csrf(true));
    throw e;
  }
}
