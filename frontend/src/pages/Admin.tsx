// School IT admins, overview: the school's approval (consent) of EduGraph, "Enable user access"
// with progress, linked accounts, the profile fields people may edit, and the token cache. The
// other sections of the console are in ./admin/.
import { useEffect, useState } from 'react';
import { api, ok, type Me, type Schemas } from '../api/client';
import { latestUserAccessQuery, linkedAccountsQuery, profileFieldsQuery, tenantQuery } from '../api/queries';
import { humanError } from '../api/errors';
import { ApiError } from '../api/http';
import { jobFinished } from '../lib/jobs';
import { formatWhen } from '../lib/time';
import { useNav } from '../router';
import { useSession } from '../session';
import { Alert, ConfirmButton, Empty, ErrorState, Loading, useLoad } from '../ui';
import { AdminPage, JobProgress, useJobPolling } from './admin/common';
import { fieldLabel } from './About';

const CONSENT: Record<string, string> = {
  none: 'Not approved yet: teachers and students cannot sign in.',
  consented: 'Approved: teachers and students can sign in.',
  revoked: 'Approval withdrawn: teachers and students cannot sign in.',
};

export function Admin(_props: { me: Me }) {
  return (
    <AdminPage title="Administration">
      <TenantCard />
      <UserAccessCard />
      <LinkedAccountsCard />
      <ProfileFieldsCard />
      <TokenCacheCard />
    </AdminPage>
  );
}

function TenantCard() {
  const tenant = useLoad(tenantQuery());
  const { setMe } = useSession();
  const { navigate } = useNav();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string>();

  const unconsent = async (name: string) => {
    setBusy(true);
    setFailure(undefined);
    try {
      await api.POST('/api/admin/tenant/unconsent');
      api.resetCsrf();
      setMe(null);
      navigate('/signin', {
        flash: `EduGraph's approval for ${name} was withdrawn. Everyone of your school, you included, was signed out.`,
      });
    } catch (err) {
      setFailure(humanError(err));
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="tenant-title">
      <h2 id="tenant-title">Your school’s approval</h2>
      {tenant.status === 'loading' && <Loading />}
      {tenant.status === 'error' && <ErrorState error={tenant.error} retry={tenant.reload} />}
      {tenant.status === 'ready' && (
        <>
          <dl className="facts">
            <dt>School district</dt>
            <dd>{tenant.data.display_name}</dd>
            <dt>Microsoft tenant</dt>
            <dd className="mono">{tenant.data.ms_tenant_id}</dd>
            <dt>State</dt>
            <dd>
              <span className={`badge badge-consent-${tenant.data.consent_state}`}>
                {CONSENT[tenant.data.consent_state] ?? tenant.data.consent_state}
              </span>
            </dd>
          </dl>
          {failure && <Alert kind="error">{failure}</Alert>}
          <div className="actions">
            <a className="button" href="/auth/microsoft/consent">
              {tenant.data.consent_state === 'consented' ? 'Approve again (re-consent)' : 'Approve EduGraph'}
            </a>
            {tenant.data.consent_state === 'consented' && (
              <ConfirmButton
                danger
                label="Withdraw approval"
                question={`Withdraw EduGraph's approval for ${tenant.data.display_name}? Everyone is signed out and all links are removed.`}
                confirmLabel="Yes, withdraw"
                onConfirm={() => unconsent(tenant.data.display_name)}
                busy={busy}
              />
            )}
          </div>
          <p className="hint">
            Approving opens Microsoft’s consent page for the permissions EduGraph needs. Withdrawing removes EduGraph
            from your Microsoft 365 tenant.
          </p>
        </>
      )}
    </section>
  );
}

function UserAccessCard() {
  const latest = useLoad(latestUserAccessQuery());
  const { job: polled, error: pollError, start: poll } = useJobPolling(null);
  const [failure, setFailure] = useState<string>();
  const [busy, setBusy] = useState(false);
  // The job shown: the one polled, else the latest run (undefined while loading, null: never run).
  const job = polled ?? (latest.status === 'ready' ? latest.data : undefined);
  const loadError = polled ? undefined : latest.error;

  // A run still going when the page opens is followed until it finishes.
  useEffect(() => {
    const run = latest.data;
    if (run && !jobFinished(run) && (!polled || (polled.id !== run.id && jobFinished(polled)))) poll(run);
  }, [polled, latest.data, poll]);

  const start = async () => {
    setBusy(true);
    setFailure(undefined);
    try {
      poll(await ok(api.POST('/api/admin/user-access/enable')));
    } catch (err) {
      setFailure(humanError(err));
      if (err instanceof ApiError && err.code === 'job_already_running') void latest.refresh();
    } finally {
      setBusy(false);
    }
  };

  const running = Boolean(job && !jobFinished(job));
  return (
    <section className="card" aria-labelledby="access-title">
      <h2 id="access-title">Enable user access</h2>
      <p>
        Gives every user of your Microsoft 365 tenant access to EduGraph (the app’s default role), in the background.
        Users who already have access are skipped.
      </p>
      {loadError !== undefined && <ErrorState error={loadError} retry={latest.reload} />}
      {job === undefined && loadError === undefined && <Loading />}
      {job === null && <p className="muted">It has not been run from EduGraph yet.</p>}
      {job && <JobProgress job={job} />}
      {failure && <Alert kind="error">{failure}</Alert>}
      {pollError !== undefined && <Alert kind="error">{humanError(pollError)}</Alert>}
      <button type="button" className="button" onClick={start} disabled={busy || running}>
        {running ? 'Running…' : busy ? 'Starting…' : job ? 'Run again' : 'Enable user access'}
      </button>
    </section>
  );
}

type LinkedAccount = Schemas['LinkedAccount'];

function LinkedAccountsCard() {
  const list = useLoad(linkedAccountsQuery());
  const [busy, setBusy] = useState<string | null>(null);
  const [notice, setNotice] = useState<{ kind: 'success' | 'error'; text: string }>();

  const unlink = async (a: LinkedAccount) => {
    setBusy(a.id);
    setNotice(undefined);
    try {
      await api.POST('/api/admin/linked-accounts/{id}/unlink', { params: { path: { id: a.id } } });
      list.setData((d) => ({ items: d.items.filter((x) => x.id !== a.id) }));
      setNotice({ kind: 'success', text: `${a.display_name ?? a.upn ?? 'The account'} is unlinked; its Microsoft sign-in was forgotten.` });
    } catch (err) {
      setNotice({ kind: 'error', text: humanError(err) });
    } finally {
      setBusy(null);
    }
  };

  return (
    <section className="card" aria-labelledby="linked-title">
      <h2 id="linked-title">Linked accounts</h2>
      <p className="hint">People of your school who signed in with Microsoft 365, and the EduGraph password account linked to them.</p>
      {notice && <Alert kind={notice.kind}>{notice.text}</Alert>}
      {list.status === 'loading' && <Loading />}
      {list.status === 'error' && <ErrorState error={list.error} retry={list.reload} />}
      {list.status === 'ready' && !list.data.items.length && (
        <Empty>
          <p>Nobody of your school has signed in with Microsoft yet.</p>
        </Empty>
      )}
      {list.status === 'ready' && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table table-stack">
            <thead>
              <tr>
                <th scope="col">Person</th>
                <th scope="col">EduGraph password account</th>
                <th scope="col">Last Microsoft sign-in</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((a) => (
                <tr key={a.id}>
                  <td>
                    {a.display_name ?? '—'}
                    {a.upn && <div className="muted small">{a.upn}</div>}
                  </td>
                  <td data-label="EduGraph password account">{a.local_email ?? <span className="muted">none</span>}</td>
                  <td data-label="Last Microsoft sign-in">{a.last_sign_in_at ? formatWhen(a.last_sign_in_at) : '—'}</td>
                  <td>
                    <div className="actions-cell">
                    <ConfirmButton
                      small
                      danger
                      label="Unlink"
                      question={`Unlink ${a.display_name ?? a.upn ?? 'this account'}?`}
                      confirmLabel="Yes, unlink"
                      onConfirm={() => unlink(a)}
                      busy={busy === a.id}
                    />
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function ProfileFieldsCard() {
  const config = useLoad(profileFieldsQuery());
  const [chosen, setChosen] = useState<Schemas['ProfileField'][]>([]);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ kind: 'success' | 'error'; text: string }>();
  useEffect(() => {
    if (config.status === 'ready') setChosen(config.data.editable);
  }, [config.status, config.data]);

  const save = async () => {
    setBusy(true);
    setResult(undefined);
    try {
      const saved = await ok(api.PUT('/api/admin/profile-fields', { body: { editable: chosen } }));
      config.setData((c) => ({ ...c, editable: saved.editable }));
      setResult({ kind: 'success', text: saved.editable.length ? `People may now edit: ${saved.editable.map(fieldLabel).join(', ')}.` : 'Nobody may edit profile fields now.' });
    } catch (err) {
      setResult({ kind: 'error', text: humanError(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="fields-title">
      <h2 id="fields-title">Profile fields people may edit</h2>
      {config.status === 'loading' && <Loading />}
      {config.status === 'error' && <ErrorState error={config.error} retry={config.reload} />}
      {config.status === 'ready' && (
        <>
          <fieldset className="choices grid-choices">
            <legend className="visually-hidden">Editable fields</legend>
            {(config.data.available ?? []).map((f) => (
              <div key={f} className="check">
                <input
                  id={`pf-${f}`}
                  type="checkbox"
                  checked={chosen.includes(f)}
                  onChange={(e) => setChosen(e.target.checked ? [...chosen, f] : chosen.filter((x) => x !== f))}
                />
                <label htmlFor={`pf-${f}`}>{fieldLabel(f)}</label>
              </div>
            ))}
          </fieldset>
          {result && <Alert kind={result.kind}>{result.text}</Alert>}
          <button type="button" className="button" onClick={save} disabled={busy}>
            {busy ? 'Saving…' : 'Save editable fields'}
          </button>
        </>
      )}
    </section>
  );
}

function TokenCacheCard() {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ kind: 'success' | 'error'; text: string }>();
  const clear = async () => {
    setBusy(true);
    setResult(undefined);
    try {
      const r = await ok(api.POST('/api/admin/token-cache/clear'));
      setResult({
        kind: 'success',
        text: `${r.deleted} cached Microsoft sign-in${r.deleted === 1 ? ' was' : 's were'} deleted. People sign in with Microsoft again when they next need it.`,
      });
    } catch (err) {
      setResult({ kind: 'error', text: humanError(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card" aria-labelledby="cache-title">
      <h2 id="cache-title">Cached Microsoft sign-ins</h2>
      <p>EduGraph keeps people’s Microsoft tokens (encrypted) to call Microsoft 365 for them. Clearing them is safe.</p>
      {result && <Alert kind={result.kind}>{result.text}</Alert>}
      <ConfirmButton
        label="Clear the token cache"
        question="Delete every cached Microsoft token of your school?"
        confirmLabel="Yes, clear"
        onConfirm={clear}
        busy={busy}
      />
    </section>
  );
}
