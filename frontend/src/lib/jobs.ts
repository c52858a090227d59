// Progress of a background job (Enable user access), as shown in the progress bar.
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

export function jobSummary(job: Job): string {
  const counts = `${job.done} given access, ${job.already} already had it, ${job.failed} failed`;
  switch (job.status) {
    case 'queued':
      return 'Waiting to start…';
    case 'running':
      return job.total > 0 ? `${jobHandled(job)} of ${job.total} users handled (${counts}).` : 'Reading the users of your school…';
    case 'succeeded':
      return `Finished: ${counts}${job.total ? ` out of ${job.total} users` : ''}.`;
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
