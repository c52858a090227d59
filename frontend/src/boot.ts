// The first script the page runs: a tiny entry of its own, listed before the app in index.html
// (vite.config.ts puts it there). While the app's JavaScript is still downloading it
//  - preloads the chunks of the page the address shows (`<link rel=modulepreload>`, from the
//    map the build writes into index.html), instead of after the app has started, and
//  - starts that page's first API reads (`/api/me` and the page's own), instead of after
//    React has rendered and `/api/me` has answered.
// The app takes each answer once (api/prefetch.ts) when it asks for the same URL; what it does
// not ask for is dropped. Issue 18: on 1.6 Mbps / 150 ms RTT these were three sequential steps
// after the app's 300 KB had arrived and run.
import { ROUTE_MODULES, matchRoute } from './routes';

/** Where the answers wait for the app (`window[BOOT_KEY]`). */
export const BOOT_KEY = '__edugraphBoot';
/** The id of the JSON block in index.html: page module -> its chunk files. */
export const CHUNKS_ID = 'edugraph-chunks';

export interface Boot {
  /** `performance.now()` when the reads started. */
  started: number;
  /** Absolute URL -> the answer (a GET with `Accept: application/json`, same-origin cookies). */
  responses: Map<string, Promise<Response>>;
}

/** The GET reads the page at `pathname` makes first, exactly as its queries spell them
 * (`src/boot.test.ts` runs the pages' queries and compares). Only pages that matter on a slow
 * network; others start when the app does. */
export function bootRequests(pathname: string, search: string): string[] {
  const route = matchRoute(pathname);
  const e = encodeURIComponent;
  const reads = ['/api/me'];
  switch (route.name) {
    case 'signin':
      reads.push('/api/auth/microsoft/hint');
      break;
    case 'classes':
      // The default view (my classes); a search or another scope starts with the app.
      if (!search) reads.push('/api/classes?scope=mine');
      break;
    case 'class':
      reads.push(`/api/classes/${e(route.id)}`);
      break;
    case 'assignment': {
      const cls = `/api/classes/${e(route.id)}`;
      const a = `${cls}/assignments/${e(route.aid)}`;
      reads.push(cls, a, `${a}/submissions`);
      break;
    }
    case 'admin':
      // The admin console's landing page: its four cards read at once.
      reads.push('/api/admin/tenant', '/api/admin/user-access/latest', '/api/admin/linked-accounts', '/api/admin/profile-fields');
      break;
    default:
      break;
  }
  return reads;
}

/** The chunk files of the page modules a route shows (from the build's map). */
export function routeChunks(pathname: string, chunks: Record<string, string[]>): string[] {
  const files = ROUTE_MODULES[matchRoute(pathname).name].flatMap((m) => chunks[m] ?? []);
  return [...new Set(files)];
}

function start(): void {
  const { pathname, search, origin } = window.location;
  try {
    const map = JSON.parse(document.getElementById(CHUNKS_ID)?.textContent ?? '{}') as Record<string, string[]>;
    for (const href of routeChunks(pathname, map)) {
      const link = document.createElement('link');
      link.rel = 'modulepreload';
      link.href = href;
      document.head.appendChild(link);
    }
  } catch {
    /* no map (development): the app loads its chunks itself */
  }
  const responses = new Map<string, Promise<Response>>();
  for (const path of bootRequests(pathname, search)) {
    const url = origin + path;
    const answer = fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    answer.catch(() => {});
    responses.set(url, answer);
  }
  (window as unknown as Record<string, Boot>)[BOOT_KEY] = { started: performance.now(), responses };
}

if (typeof window !== 'undefined' && typeof document !== 'undefined') start();
