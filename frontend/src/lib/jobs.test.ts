import { describe, expect, it } from 'vitest';
import { jobFinished, jobPercent, jobSummary, pollDelay, type Job } from './jobs';

const job = (o: Partial<Job>): Job => ({
  id: 'j', kind: 'enable_user_access', status: 'running', total: 0, done: 0, failed: 0, already: 0,
  created_at: 0, updated_at: 0, ...o,
});

describe('job progress', () => {
  it('is unknown until the users are counted, then the share handled', () => {
    expect(jobPercent(job({ status: 'queued' }))).toBeUndefined();
    expect(jobPercent(job({ total: 200, done: 20, already: 30, failed: 0 }))).toBe(25);
    expect(jobPercent(job({ total: 3, done: 1 }))).toBe(33);
    expect(jobPercent(job({ total: 10, done: 12 }))).toBe(100);
    expect(jobPercent(job({ status: 'succeeded', total: 10, done: 9, failed: 1 }))).toBe(100);
    expect(jobPercent(job({ status: 'failed' }))).toBe(0);
  });

  it('knows when to stop polling, and says what happened', () => {
    expect(jobFinished(job({ status: 'running' }))).toBe(false);
    expect(jobFinished(job({ status: 'queued' }))).toBe(false);
    expect(jobFinished(job({ status: 'succeeded' }))).toBe(true);
    expect(jobFinished(job({ status: 'failed' }))).toBe(true);
    expect(jobSummary(job({ total: 100, done: 10, already: 5 }))).toBe(
      '15 of 100 users handled (10 given access, 5 already had it, 0 failed).',
    );
    expect(jobSummary(job({ status: 'succeeded', total: 4, done: 3, failed: 1 }))).toMatch(/^Finished: 3 given access/);
  });

  it('polls quickly at first, then at most every 3 s', () => {
    expect(pollDelay(0)).toBe(500);
    expect(pollDelay(100)).toBe(3000);
  });
});
