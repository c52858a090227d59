// Microsoft publishes an assignment asynchronously: `publish` answers `publishing: true`
// (status `published`), and the assignment becomes `assigned` a moment later. The SPA polls
// `GET /api/classes/{id}/assignments/{aid}` until `publishing` is false, backing off.

/** Wait before the n-th poll (0-based): 0.5 s, 1 s, 2 s, then every 3 s. */
export function publishPollDelay(n: number): number {
  return [500, 1000, 2000][n] ?? 3000;
}

export interface PollOptions<T> {
  /** Reads the assignment as Microsoft has it now. */
  get: () => Promise<T>;
  /** Called with every answer. */
  onUpdate?: (a: T) => void;
  /** Give up after this long (the last answer is returned; the page says it is still publishing). */
  maxWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Stops polling (the page was left). */
  cancelled?: () => boolean;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until `publishing` is false (or the time is up, or cancelled); returns the last answer. */
export async function waitUntilPublished<T extends { publishing: boolean }>(o: PollOptions<T>): Promise<T | undefined> {
  const sleep = o.sleep ?? realSleep;
  const max = o.maxWaitMs ?? 60_000;
  let waited = 0;
  let last: T | undefined;
  for (let n = 0; waited < max; n += 1) {
    const d = publishPollDelay(n);
    await sleep(d);
    waited += d;
    if (o.cancelled?.()) return last;
    last = await o.get();
    o.onUpdate?.(last);
    if (!last.publishing) return last;
  }
  return last;
}
