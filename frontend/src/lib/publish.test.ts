import { describe, expect, it } from 'vitest';
import { publishPollDelay, waitUntilPublished } from './publish';

describe('waiting for Microsoft’s asynchronous publish', () => {
  it('backs off: 0.5 s, 1 s, 2 s, then every 3 s', () => {
    expect([0, 1, 2, 3, 10].map(publishPollDelay)).toEqual([500, 1000, 2000, 3000, 3000]);
  });

  it('polls until publishing is false and reports every answer', async () => {
    const answers = [
      { status: 'published', publishing: true },
      { status: 'published', publishing: true },
      { status: 'assigned', publishing: false },
    ];
    const slept: number[] = [];
    const seen: string[] = [];
    const last = await waitUntilPublished({
      get: async () => answers.shift()!,
      onUpdate: (a) => seen.push(a.status),
      sleep: async (ms) => void slept.push(ms),
    });
    expect(last).toEqual({ status: 'assigned', publishing: false });
    expect(seen).toEqual(['published', 'published', 'assigned']);
    expect(slept).toEqual([500, 1000, 2000]);
  });

  it('gives up after the time limit with the last answer (still publishing)', async () => {
    let calls = 0;
    const last = await waitUntilPublished({
      get: async () => {
        calls += 1;
        return { publishing: true };
      },
      sleep: async () => {},
      maxWaitMs: 10_000,
    });
    expect(last?.publishing).toBe(true);
    // 0.5 + 1 + 2 + 3 + 3 = 9.5 s, then one more 3 s wait reaches the limit.
    expect(calls).toBe(6);
  });

  it('stops when the page is left', async () => {
    let calls = 0;
    const last = await waitUntilPublished({
      get: async () => {
        calls += 1;
        return { publishing: true };
      },
      sleep: async () => {},
      cancelled: () => calls >= 2,
    });
    expect(calls).toBe(2);
    expect(last?.publishing).toBe(true);
  });
});
