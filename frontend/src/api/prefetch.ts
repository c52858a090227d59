// The answers the boot script (src/boot.ts) started before the app ran: the API client takes
// each one once, for a GET of the same URL, instead of asking again. They are only for the
// first page: anything the app has not taken by its first navigation, a change of who is
// signed in, or `MAX_AGE_MS` after boot is dropped (never an old answer later).
/** boot.ts's `BOOT_KEY` (not imported: boot.ts runs when imported; boot.test.ts checks). */
export const BOOT_KEY = '__edugraphBoot';
const MAX_AGE_MS = 30_000;

interface Boot {
  started: number;
  responses: Map<string, Promise<Response>>;
}

function boot(): Boot | undefined {
  return typeof window === 'undefined' ? undefined : (window as unknown as Record<string, Boot | undefined>)[BOOT_KEY];
}

/** The boot script's answer for this request, once; `undefined`: ask the server. */
export function takePrefetched(request: Request): Promise<Response> | undefined {
  const b = boot();
  if (!b || request.method !== 'GET') return undefined;
  if (performance.now() - b.started > MAX_AGE_MS) {
    b.responses.clear();
    return undefined;
  }
  const answer = b.responses.get(request.url);
  if (answer) b.responses.delete(request.url);
  return answer;
}

/** Drops what the first page did not take (on navigation and sign-in/out). */
export function dropPrefetched(): void {
  boot()?.responses.clear();
}
