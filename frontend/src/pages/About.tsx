// About me: the Microsoft profile, roles, favourite colour and classes; the profile fields the
// school lets people edit themselves.
import { useEffect, useState, type FormEvent } from 'react';
import { api, ok, type Me } from '../api/client';
import { aboutQuery, profileQuery } from '../api/queries';
import { humanError } from '../api/errors';
import { Link, classPath } from '../router';
import { Alert, Empty, ErrorState, Field, Loading, Page, Swatch, useLoad } from '../ui';
import { FavoriteColorForm } from './FavoriteColor';

const ROLE_NAMES: Record<string, string> = { admin: 'School IT admin', teacher: 'Teacher', student: 'Student' };

/** Human labels for Microsoft's profile field names. */
export const FIELD_LABELS: Record<string, string> = {
  jobTitle: 'Job title',
  department: 'Department',
  mobilePhone: 'Mobile phone',
  businessPhones: 'Work phone',
  streetAddress: 'Street address',
  city: 'City',
  state: 'State or province',
  postalCode: 'Postal code',
  country: 'Country or region',
  officeLocation: 'Office',
  displayName: 'Name',
  aboutMe: 'About me',
};

export function fieldLabel(field: string): string {
  return FIELD_LABELS[field] ?? field.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/^./, (c) => c.toUpperCase());
}

/** Only the fields whose value changed, trimmed; an emptied field is sent as null (clears it). */
export function profileChanges(
  original: Record<string, unknown>,
  edited: Record<string, string>,
): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(edited)) {
    const before = typeof original[k] === 'string' ? (original[k] as string).trim() : '';
    const after = v.trim();
    if (after !== before) out[k] = after === '' ? null : after;
  }
  return out;
}

export function About({ me }: { me: Me }) {
  const about = useLoad(aboutQuery());
  return (
    <Page title="About me">
      {about.status === 'loading' && <Loading label="Loading your profile…" />}
      {about.status === 'error' && <ErrorState error={about.error} retry={about.reload} />}
      {about.status === 'ready' && (
        <div className="card">
          <h2>
            <Swatch color={about.data.favorite_color} /> {about.data.display_name ?? me.user.display_name}
          </h2>
          <dl className="facts">
            <dt>Mail</dt>
            <dd>{about.data.mail ?? <span className="muted">None</span>}</dd>
            <dt>Job title</dt>
            <dd>{about.data.job_title ?? <span className="muted">Not set</span>}</dd>
            <dt>Department</dt>
            <dd>{about.data.department ?? <span className="muted">Not set</span>}</dd>
            <dt>Mobile phone</dt>
            <dd>{about.data.mobile_phone ?? <span className="muted">Not set</span>}</dd>
            <dt>Office</dt>
            <dd>{about.data.office_location ?? <span className="muted">Not set</span>}</dd>
            <dt>Roles</dt>
            <dd>{about.data.roles.length ? about.data.roles.map((r) => ROLE_NAMES[r] ?? r).join(', ') : <span className="muted">None</span>}</dd>
            <dt>My classes</dt>
            <dd>
              {about.data.classes.length ? (
                <ul className="inline-list">
                  {about.data.classes.map((c) => (
                    <li key={c.id}>
                      <Link to={classPath(c.id)}>{c.display_name ?? 'Class'}</Link>
                    </li>
                  ))}
                </ul>
              ) : (
                <span className="muted">No classes</span>
              )}
            </dd>
          </dl>
        </div>
      )}
      <div className="card">
        <h2>Favourite colour</h2>
        <p className="hint">Your teachers and classmates see it next to your name and on the seating chart.</p>
        <FavoriteColorForm me={me} onSaved={(color) => about.setData((a) => ({ ...a, favorite_color: color }))} />
      </div>
      <ProfileEditor onSaved={about.reload} />
    </Page>
  );
}

function ProfileEditor({ onSaved }: { onSaved: () => void }) {
  const profile = useLoad(profileQuery());
  const [edited, setEdited] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ kind: 'success' | 'error' | 'info'; text: string }>();

  useEffect(() => {
    if (profile.status !== 'ready') return;
    const v: Record<string, string> = {};
    for (const f of profile.data.editable) {
      const x = profile.data.values[f];
      v[f] = typeof x === 'string' ? x : '';
    }
    setEdited(v);
  }, [profile.status, profile.data]);

  if (profile.status === 'loading') return <Loading label="Loading your editable fields…" />;
  if (profile.status === 'error') {
    return (
      <div className="card">
        <h2>Edit your profile</h2>
        <ErrorState error={profile.error} retry={profile.reload} />
      </div>
    );
  }
  const { editable, values } = profile.data;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const changes = profileChanges(values, edited);
    if (!Object.keys(changes).length) {
      setResult({ kind: 'info', text: 'Nothing changed.' });
      return;
    }
    setBusy(true);
    setResult(undefined);
    try {
      const updated = await ok(api.POST('/api/me/profile', { body: { changes } }));
      profile.setData(() => updated);
      setResult({ kind: 'success', text: `Saved in Microsoft 365: ${Object.keys(changes).map(fieldLabel).join(', ')}.` });
      onSaved();
    } catch (err) {
      setResult({ kind: 'error', text: humanError(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="card">
      <h2>Edit your profile</h2>
      {!editable.length ? (
        <Empty>
          <p>Your school has not opened any profile fields for editing here. Ask your administrator.</p>
        </Empty>
      ) : (
        <form onSubmit={submit} noValidate aria-label="Edit your profile">
          <p className="hint">Changes are saved to your Microsoft 365 profile. Leave a field empty to clear it.</p>
          {editable.map((f) => (
            <Field
              key={f}
              label={fieldLabel(f)}
              name={f}
              type={f === 'mobilePhone' || f === 'businessPhones' ? 'tel' : 'text'}
              value={edited[f] ?? ''}
              onChange={(e) => setEdited({ ...edited, [f]: e.target.value })}
            />
          ))}
          {result && <Alert kind={result.kind}>{result.text}</Alert>}
          <div>
            <button type="submit" className="button" disabled={busy}>
              {busy ? 'Saving…' : 'Save profile'}
            </button>
          </div>
        </form>
      )}
    </div>
  );
}
