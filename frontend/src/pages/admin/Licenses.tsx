// The school's licences (subscribed SKUs): units bought, in use and left ("none left"
// explained); assign or remove one for a person; assign one to many people as a background
// job with a progress bar and a result for each.
import { useState, type FormEvent } from 'react';
import { api, ok, type Schemas } from '../../api/client';
import { byId, licensesQuery } from '../../api/queries';
import { availability, count, licenceName, parseIds, plural, usedPercent, type AdminLicense } from '../../lib/admin';
import { jobFinished } from '../../lib/jobs';
import { Link, adminUserPath } from '../../router';
import { ActionError, Alert, Empty, ErrorState, Loading, TextArea, useLoad } from '../../ui';
import { AdminPage, BULK_WORDING, JobProgress, JobResults, PeopleChooser, PersonPicker, useJobPolling } from './common';

export function AdminLicenses() {
  const skus = useLoad(licensesQuery());
  return (
    <AdminPage title="Licences">
      {skus.status === 'loading' && <Loading label="Loading licences…" />}
      {skus.status === 'error' && <ErrorState error={skus.error} retry={skus.reload} />}
      {skus.status === 'ready' && skus.data.items.length === 0 && (
        <Empty>
          <p>Your school subscribes to no licences.</p>
        </Empty>
      )}
      {skus.status === 'ready' && skus.data.items.length > 0 && (
        <>
          <div className="table-wrap">
            <table className="table table-stack">
              <caption className="visually-hidden">Licences of your school</caption>
              <thead>
                <tr>
                  <th scope="col">Licence</th>
                  <th scope="col">Bought</th>
                  <th scope="col">In use</th>
                  <th scope="col">Left</th>
                </tr>
              </thead>
              <tbody>
                {skus.data.items.map((l) => {
                  const a = availability(l);
                  return (
                    <tr key={l.sku_id}>
                      <td>
                        <strong>{licenceName(l)}</strong>
                        <div
                          className={a.canAssign ? 'meter' : 'meter meter-full'}
                          role="img"
                          aria-label={`${usedPercent(l)}% in use`}
                        >
                          <div className="meter-fill" ref={(el) => el?.style.setProperty('width', `${usedPercent(l)}%`)} />
                        </div>
                        <div className={a.canAssign ? 'muted small' : 'small field-error'}>{a.text}</div>
                      </td>
                      <td data-label="Bought">{count(l.enabled_units)}</td>
                      <td data-label="In use">{count(l.consumed_units)}</td>
                      <td data-label="Left">{count(l.available_units)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <AssignOneCard skus={skus.data.items} onChanged={() => skus.refresh()} />
          <BulkAssignCard skus={skus.data.items} onDone={() => skus.refresh()} />
        </>
      )}
    </AdminPage>
  );
}

function SkuSelect({ id, skus, value, onChange }: { id: string; skus: AdminLicense[]; value: string; onChange: (v: string) => void }) {
  return (
    <div className="field">
      <label htmlFor={id}>Licence</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {skus.map((l) => (
          <option key={l.sku_id} value={l.sku_id}>
            {licenceName(l)} — {count(l.available_units)} left
          </option>
        ))}
      </select>
    </div>
  );
}

/** Assign or remove a licence for one person, found by name. */
function AssignOneCard({ skus, onChanged }: { skus: AdminLicense[]; onChanged: () => void }) {
  const [sku, setSku] = useState(skus[0]?.sku_id ?? '');
  const [busy, setBusy] = useState<string | null>(null);
  const [result, setResult] = useState<{ kind: 'success' | 'error'; text?: string; error?: unknown; user?: Schemas['AdminUser'] }>();
  const chosen = skus.find((l) => l.sku_id === sku);
  const a = chosen ? availability(chosen) : undefined;

  const assign = async (u: Schemas['AdminUser']) => {
    if (!chosen) return;
    setBusy(u.id);
    setResult(undefined);
    try {
      await api.POST('/api/admin/users/{id}/licenses', { ...byId(u.id), body: { add: [chosen.sku_id] } });
      setResult({ kind: 'success', text: `${licenceName(chosen)} assigned to ${u.display_name ?? 'the person'}.`, user: u });
      onChanged();
    } catch (err) {
      setResult({ kind: 'error', error: err, user: u });
    } finally {
      setBusy(null);
    }
  };

  return (
    <section className="card" aria-labelledby="assign-title">
      <h2 id="assign-title">Assign a licence to a person</h2>
      <SkuSelect id="assign-sku" skus={skus} value={sku} onChange={setSku} />
      {a && !a.canAssign && <Alert kind="info">{a.text}</Alert>}
      <PersonPicker
        label="Find the person by name"
        actionLabel={(u) => `Assign the licence to ${u.display_name ?? u.user_principal_name ?? 'this person'}`}
        onPick={assign}
        busyId={busy}
      />
      {result?.kind === 'success' && <Alert kind="success">{result.text}</Alert>}
      {result?.kind === 'error' && <ActionError error={result.error} />}
      {result?.user && (
        <p>
          <Link to={adminUserPath(result.user.id)}>Open {result.user.display_name ?? 'the person'}’s page</Link> to see or
          remove their licences.
        </p>
      )}
    </section>
  );
}

function BulkAssignCard({ skus, onDone }: { skus: AdminLicense[]; onDone: () => void }) {
  const [sku, setSku] = useState(skus[0]?.sku_id ?? '');
  const [text, setText] = useState('');
  const [people, setPeople] = useState<Schemas['AdminUser'][]>([]);
  const [error, setError] = useState<string>();
  const [failure, setFailure] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const { job, error: pollError, start } = useJobPolling(null, onDone, 'bulk_assign_licenses');
  const running = Boolean(job && !jobFinished(job));
  const parsed = parseIds([...people.map((u) => u.id), text].join('\n'));
  const chosen = skus.find((l) => l.sku_id === sku);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFailure(undefined);
    setError(parsed.error);
    if (parsed.error || !chosen) return;
    setBusy(true);
    try {
      start(
        await ok(api.POST('/api/admin/licenses/bulk-assign', { body: { sku_id: chosen.sku_id, user_ids: parsed.ids } })),
      );
    } catch (err) {
      setFailure(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="bulk-lic-title">
      <h2 id="bulk-lic-title">Assign a licence to many people</h2>
      <p className="hint">
        Find people by name and add them to the list, or paste their emails (sign-in names), one a line or separated
        by commas. Up to 1,000 at a time; it runs in the background. People for whom no licence is left are listed as
        failed.
      </p>
      <PeopleChooser chosen={people} onChosen={setPeople} what="to license" />
      <form onSubmit={submit} noValidate>
        <SkuSelect id="bulk-sku" skus={skus} value={sku} onChange={setSku} />
        <TextArea
          label="Or paste emails or sign-in names"
          rows={4}
          value={text}
          onChange={(e) => setText(e.target.value)}
          error={error}
          hint={
            parsed.invalid.length
              ? `Not an email or sign-in name: ${parsed.invalid.slice(0, 3).join(', ')}${parsed.invalid.length > 3 ? '…' : ''}`
              : parsed.ids.length
                ? `${plural(parsed.ids.length, 'person', 'people')} to license`
                : undefined
          }
        />
        {chosen && parsed.ids.length > chosen.available_units && (
          <Alert kind="info">
            Only {chosen.available_units} of this licence {chosen.available_units === 1 ? 'is' : 'are'} left for{' '}
            {plural(parsed.ids.length, 'person', 'people')}: the rest will fail with “none left”.
          </Alert>
        )}
        <div className="actions">
          <button type="submit" className="button" disabled={busy || running}>
            {running ? 'Running…' : busy ? 'Starting…' : 'Assign to everyone listed'}
          </button>
        </div>
      </form>
      {failure !== undefined && <ActionError error={failure} overrides={BULK_WORDING} />}
      {pollError !== undefined && <ActionError error={pollError} />}
      {job && <JobProgress job={job} />}
      {job && <JobResults job={job} />}
    </section>
  );
}
