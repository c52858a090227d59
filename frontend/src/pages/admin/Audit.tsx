// The school's audit log: every admin action, consent, sign-in and link, newest first;
// filter by action (or a prefix such as `admin.`), result and person; "See older events".
import { useState, type FormEvent } from 'react';
import { api, ok, rawQuery } from '../../api/client';
import { keys } from '../../api/queries';
import {
  AUDIT_ACTION_SUGGESTIONS,
  auditResultLabel,
  NO_AUDIT_FILTERS,
  auditActionError,
  auditActorError,
  auditActionLabel,
  auditKey,
  auditQuery,
  plural,
  type AuditEntry,
  type AuditFilters,
} from '../../lib/admin';
import { usePaged } from '../../lib/paging';
import { formatWhen } from '../../lib/time';
import { Empty, ErrorState, Field, Loading } from '../../ui';
import { AdminPage } from './common';

const TARGET_TYPES: Record<string, string> = {
  user: '(person)',
  group: '(group)',
  class: '(class)',
  assignment: '(assignment)',
  job: '(background job)',
  export: '(export)',
};

export function AdminAudit() {
  const [filters, setFilters] = useState<AuditFilters>(NO_AUDIT_FILTERS);
  const [draft, setDraft] = useState<AuditFilters>(NO_AUDIT_FILTERS);
  const [draftError, setDraftError] = useState<{ action?: string; actor?: string }>({});
  const key = auditKey(filters);
  const state = usePaged<AuditEntry>(keys.audit(key), (cursor) =>
    ok(api.GET('/api/admin/audit', rawQuery(auditQuery(filters, cursor)))),
  );
  const { more } = state;

  const apply = (e: FormEvent) => {
    e.preventDefault();
    const errs = { action: auditActionError(draft.action), actor: auditActorError(draft.actor) };
    setDraftError(errs);
    if (!errs.action && !errs.actor) setFilters(draft);
  };
  const filtered = Boolean(filters.action || filters.result || filters.actor);
  const only = (actor: string) => {
    const next = { ...filters, actor };
    setDraft(next);
    setDraftError({});
    setFilters(next);
  };

  return (
    <AdminPage title="Audit log">
      <form className="filters card" role="search" aria-label="Filter the audit log" onSubmit={apply} noValidate>
        <Field
          label="Action"
          value={draft.action}
          onChange={(e) => setDraft({ ...draft, action: e.target.value })}
          error={draftError.action}
          hint="e.g. admin.user.create, or admin. for every admin action"
          list="audit-actions"
          autoComplete="off"
        />
        <datalist id="audit-actions">
          {AUDIT_ACTION_SUGGESTIONS.map((a) => (
            <option key={a} value={a}>
              {a.endsWith('.') ? `Every ${a} action` : auditActionLabel(a)}
            </option>
          ))}
        </datalist>
        <div className="field">
          <label htmlFor="audit-result">Result</label>
          <select
            id="audit-result"
            value={draft.result}
            onChange={(e) => setDraft({ ...draft, result: e.target.value as AuditFilters['result'] })}
          >
            <option value="">Any</option>
            <option value="success">Success</option>
            <option value="failure">Failure</option>
            <option value="denied">Denied</option>
          </select>
        </div>
        <Field
          label="Person (user id)"
          value={draft.actor}
          onChange={(e) => setDraft({ ...draft, actor: e.target.value })}
          error={draftError.actor}
          hint="Or choose the id after “by” in a row"
        />
        <div className="toolbar-actions">
          <button type="submit" className="button">
            Filter
          </button>
          {filtered && (
            <button
              type="button"
              className="button button-secondary"
              onClick={() => {
                setDraft(NO_AUDIT_FILTERS);
                setDraftError({});
                setFilters(NO_AUDIT_FILTERS);
              }}
            >
              Clear
            </button>
          )}
        </div>
      </form>
      {state.status === 'loading' && <Loading label="Loading the audit log…" />}
      {state.status === 'error' && !state.items.length && (
        <ErrorState error={state.error} retry={state.retry} />
      )}
      {(state.status === 'ready' || state.status === 'loading-more' || state.items.length > 0) && (
        <>
          <p className="muted" aria-live="polite">
            {plural(state.items.length, 'event')} shown{filtered ? ' matching the filters' : ''}
            {state.next ? ' — there are older ones.' : '.'}
          </p>
          {state.items.length === 0 && (
            <Empty>
              <p>{filtered ? 'No event matches these filters.' : 'Nothing has been recorded yet.'}</p>
            </Empty>
          )}
          {state.items.length > 0 && (
            <div className="table-wrap">
              <table className="table table-stack audit-table">
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">What</th>
                    <th scope="col">Result</th>
                    <th scope="col">Target</th>
                    <th scope="col">Details</th>
                  </tr>
                </thead>
                <tbody>
                  {state.items.map((e) => (
                    <tr key={e.id}>
                      <td data-label="When">{formatWhen(e.at)}</td>
                      <td data-label="What">
                        {auditActionLabel(e.action)}
                        {auditActionLabel(e.action) !== e.action && <div className="muted small mono">{e.action}</div>}
                        {e.actor_user_id && (
                          <div className="muted small">
                            by{' '}
                            {filters.actor === e.actor_user_id ? (
                              <span>{e.actor_name ?? e.actor_user_id}</span>
                            ) : (
                              <button
                                type="button"
                                className="link-button mono"
                                onClick={() => only(e.actor_user_id!)}
                                title="Show only this person’s events"
                              >
                                {e.actor_name ?? e.actor_user_id}
                                <span className="visually-hidden"> (show only their events)</span>
                              </button>
                            )}
                          </div>
                        )}
                      </td>
                      <td data-label="Result">
                        <span className={`badge badge-result-${e.result}`}>{auditResultLabel(e.result)}</span>
                      </td>
                      <td data-label="Target">
                        {e.target_type ? (
                          <>
                            {e.target_name ? <strong>{e.target_name}</strong> : null} {TARGET_TYPES[e.target_type] ?? e.target_type}
                            {!e.target_name && e.target_id && <span className="mono small break-anywhere"> {e.target_id}</span>}
                          </>
                        ) : (
                          '—'
                        )}
                      </td>
                      <td data-label="Details" className="mono small">
                        {e.detail ?? '—'}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {state.status === 'error' && <ErrorState error={state.error} />}
          {(state.next || state.status === 'loading-more') && (
            <button type="button" className="button button-secondary" onClick={more} disabled={state.status === 'loading-more'}>
              {state.status === 'loading-more' ? 'Loading…' : 'See older events'}
            </button>
          )}
        </>
      )}
    </AdminPage>
  );
}
