// Progress of a background job (Enable user access, bulk add members, bulk assign a licence),
// as shown in the progress bar.
import type { Schemas } from '../api/client';

export type Job = Schemas['JobView'];

export function jobFinished(job: Pick<Job, 'status'>): boolean {
  return job.status === 'succeeded' || job.status === 'failed';
}

/** Users handled so far (granted, already had access, or failed) out of the total. */
export function jobHandled(job: Pick<Job, 'done' | 'failed' | 'already'>): number {
  return job.done + job.failed + job.already;
}

/** 0..100; unknown (undefined) while the job has not counted the users yet. */
export function jobPercent(job: Job): number | undefined {
  if (job.status === 'succeeded') return 100;
  if (job.total <= 0) return job.status === 'failed' ? 0 : undefined;
  return Math.min(100, Math.floor((jobHandled(job) * 100) / job.total));
}

/** The words of a job kind: what `done` and `already` mean, and what is counted. */
const WORDS: Record<string, { done: string; already: string; noun: string; title: string; reading: string }> = {
  enable_user_access: {
    done: 'given access',
    already: 'already had it',
    noun: 'users',
    title: 'Enable user access',
    reading: 'Reading the users of your school…',
  },
  bulk_add_members: {
    done: 'added',
    already: 'already in the group',
    noun: 'members',
    title: 'Add members',
    reading: 'Checking the list…',
  },
  bulk_assign_licenses: {
    done: 'licensed',
    already: 'already licensed',
    noun: 'people',
    title: 'Assign a licence',
    reading: 'Checking the list…',
  },
};

/** A job kind's name, e.g. for the progress bar's label. */
export function jobTitle(job: Pick<Job, 'kind'>): string {
  return WORDS[job.kind]?.title ?? job.kind;
}

export function jobSummary(job: Job): string {
  const w = WORDS[job.kind] ?? WORDS.enable_user_access!;
  const counts = `${job.done} ${w.done}, ${job.already} ${w.already}, ${job.failed} failed`;
  switch (job.status) {
    case 'queued':
      return 'Waiting to start…';
    case 'running':
      return job.total > 0 ? `${jobHandled(job)} of ${job.total} ${w.noun} handled (${counts}).` : w.reading;
    case 'succeeded':
      return `Finished: ${counts}${job.total ? ` out of ${job.total} ${w.noun}` : ''}.`;
    case 'failed':
      return `Stopped before the end (${counts}).`;
    default:
      return job.status;
  }
}

/** How long to wait before polling again: quick at first, then slower. */
export function pollDelay(attempt: number): number {
  return Math.min(3000, 500 + attempt * 250);
}
