// Issue 18 §3 (R-C9): when Microsoft 365 is not answering, the classes list and a class's people
// come from EduGraph's stored copy (`stale_as_of`, RFC 3339 UTC); parts without a stored copy
// (documents, conversations, assignments) say "not available right now" with a Retry button.
import { ApiError } from '../api/http';
import { humanError } from '../api/errors';
import { formatWhen } from '../lib/time';
import { Alert } from '../ui';

/** The banner over a page served from the stored copy. */
export function StaleBanner({ staleAsOf, what, onRefresh, busy }: { staleAsOf: string; what: string; onRefresh?: () => void; busy?: boolean }) {
  return (
    <div className="stale-banner">
      <Alert kind="info">
        <strong>Microsoft 365 is not answering;</strong> showing {what} as of {formatWhen(staleAsOf)}. Changes made since then may be
        missing.{' '}
        {onRefresh && (
          <button type="button" className="button button-secondary button-small" onClick={onRefresh} disabled={busy}>
            {busy ? 'Trying…' : 'Try Microsoft 365 again'}
          </button>
        )}
      </Alert>
    </div>
  );
}

/** Whether an error means Microsoft 365 is not answering (throttled, down, circuit open). */
export function isOutage(error: unknown): boolean {
  return error instanceof ApiError && error.code === 'microsoft_unavailable';
}

/** A part of a page that could not be read: "not available right now" with Retry — never an error page. */
export function PartUnavailable({ what, error, retry }: { what: string; error: unknown; retry: () => void }) {
  return (
    <div className="error-state">
      <Alert kind="info">
        {isOutage(error) ? (
          <>
            {what} {what.endsWith('s') ? 'are' : 'is'} not available right now: Microsoft 365 is not answering, and EduGraph keeps no
            copy of {what.toLowerCase()}. Try again in a minute.
          </>
        ) : (
          <>
            {what} could not be loaded: {humanError(error)}
          </>
        )}
      </Alert>
      <div className="actions">
        <button type="button" className="button button-secondary" onClick={retry}>
          Retry
        </button>
      </div>
    </div>
  );
}
