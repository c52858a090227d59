// Account: how you sign in, and the three ways to link accounts (a local account links a
// Microsoft 365 account; a Microsoft person creates an EduGraph password, or links an existing
// EduGraph account), unlinking, and signing out everywhere.
import { useState, type FormEvent } from 'react';
import { api, logout, ok, type Me } from '../api/client';
import { fieldFor, hasSignInMessage, humanError, signInErrorMessage } from '../api/errors';
import { ApiError } from '../api/http';
import { useNav } from '../router';
import { setAfterUnlink, useSession } from '../session';
import { Alert, ConfirmButton, Field, Page } from '../ui';
import { PASSWORD_MAX, PASSWORD_MIN, checkEmail, checkNewPassword, type Errors } from '../validation';
import { FavoriteColorForm } from './FavoriteColor';

const NOTICES: Record<string, string> = {
  microsoft_linked: 'Your Microsoft 365 account is now linked to this account.',
};

export function Account({ me }: { me: Me }) {
  const { search, flash, navigate } = useNav();
  const { setMe } = useSession();
  const params = new URLSearchParams(search);
  const code = params.get('error') ?? '';
  const refusal = /^[a-z_]{1,64}$/.test(code) ? (hasSignInMessage(code) ? signInErrorMessage(code) : humanError(new ApiError(409, code))) : undefined;
  const notice = NOTICES[params.get('notice') ?? ''];
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string>();
  const [done, setDone] = useState<string>();
  const ms = me.link.microsoft;
  const hasPassword = me.user.has_local_password;

  const unlink = async () => {
    setBusy(true);
    setFailure(undefined);
    try {
      const updated = (await ok(api.POST('/api/me/link/microsoft/remove'))) as Me | undefined;
      if (updated) {
        setMe(updated);
        setDone('Your Microsoft 365 account is no longer linked. Sign in with your EduGraph password from now on.');
      } else {
        api.resetCsrf();
        // The sign-in page offers the EduGraph password first (issue 16: unlink is not a trap).
        setAfterUnlink(me.user.email);
        setMe(null);
        navigate('/signin', { flash: 'Your Microsoft 365 account was unlinked and you were signed out. Sign in with your EduGraph password.' });
      }
    } catch (err) {
      setFailure(humanError(err));
    } finally {
      setBusy(false);
    }
  };

  const signOutEverywhere = async () => {
    setBusy(true);
    setFailure(undefined);
    try {
      await logout(true);
      setMe(null);
      navigate('/signin', { flash: 'You are signed out on every device.' });
    } catch (err) {
      setFailure(humanError(err));
      setBusy(false);
    }
  };

  return (
    <Page title="Your account">
      {flash && <Alert kind="success">{flash}</Alert>}
      {notice && <Alert kind="success">{notice}</Alert>}
      {refusal && <Alert kind="error">{refusal}</Alert>}
      {failure && <Alert kind="error">{failure}</Alert>}
      {done && <Alert kind="success">{done}</Alert>}

      <div className="card">
        <h2>How you sign in</h2>
        <dl className="facts">
          <dt>EduGraph password</dt>
          <dd>{hasPassword ? <>Set{me.user.email && <> for {me.user.email}</>}</> : <span className="muted">Not set</span>}</dd>
          <dt>Microsoft 365</dt>
          <dd>
            {ms ? (
              <>
                Linked: {ms.display_name ?? ms.upn ?? 'Microsoft account'}
                {ms.upn && ms.display_name && <span className="muted"> ({ms.upn})</span>}
              </>
            ) : (
              <span className="muted">Not linked</span>
            )}
          </dd>
          <dt>This session</dt>
          <dd>{me.auth_method === 'microsoft' ? 'Signed in with Microsoft' : 'Signed in with your EduGraph password'}</dd>
        </dl>
      </div>

      {!ms && (
        <div className="card">
          <h2>Link your Microsoft 365 account</h2>
          <p>
            Link your school’s Microsoft 365 account to see your classes, schools and assignments. You sign in at
            Microsoft once; afterwards either way of signing in opens this same account.
          </p>
          <p className="hint">
            A Microsoft account that is already linked to another EduGraph account is refused: sign in with it and unlink
            it there first.
          </p>
          <a
            className="button button-microsoft"
            href={`/auth/microsoft/login?intent=link&return_to=${encodeURIComponent('/account?notice=microsoft_linked')}`}
          >
            <span className="ms-logo" aria-hidden="true">
              <span />
              <span />
              <span />
              <span />
            </span>
            Link a Microsoft 365 account
          </a>
        </div>
      )}

      {ms && !hasPassword && (
        <>
          <CreateLocal />
          <LinkExisting />
        </>
      )}

      {ms && (
        <div className="card" id="unlink">
          <h2>Unlink Microsoft 365</h2>
          {hasPassword ? (
            <>
              <p>
                After unlinking you sign in with your EduGraph password only, and EduGraph forgets your Microsoft data
                and sign-in.
                {me.auth_method === 'microsoft' && ' You are signed in with Microsoft now, so you will be signed out.'}
              </p>
              <ConfirmButton
                label="Unlink Microsoft account"
                question="Unlink your Microsoft 365 account?"
                confirmLabel="Yes, unlink"
                onConfirm={unlink}
                busy={busy}
                danger
              />
            </>
          ) : (
            <p className="muted">
              To unlink, first create an EduGraph password or link an existing EduGraph account above — otherwise you
              could no longer sign in.
            </p>
          )}
        </div>
      )}

      {!me.tenant && (
        <div className="card">
          <h2>Favourite colour</h2>
          <FavoriteColorForm me={me} />
        </div>
      )}

      <div className="card">
        <h2>Sign out everywhere</h2>
        <p>Ends every session of yours, on every device, and forgets your cached Microsoft sign-in.</p>
        <ConfirmButton
          label="Sign out everywhere"
          question="Sign out on every device?"
          confirmLabel="Yes, sign out everywhere"
          onConfirm={signOutEverywhere}
          busy={busy}
        />
      </div>
    </Page>
  );
}

type LocalForm = { email: string; password: string };

/** Path 2: a Microsoft person creates an EduGraph password (and sign-in email). */
function CreateLocal() {
  const { setMe } = useSession();
  const [form, setForm] = useState<LocalForm>({ email: '', password: '' });
  const [errors, setErrors] = useState<Errors<keyof LocalForm>>({});
  const [failure, setFailure] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFailure(undefined);
    const found: Errors<keyof LocalForm> = {};
    const em = checkEmail(form.email);
    if (em) found.email = em;
    const pw = checkNewPassword(form.password);
    if (pw) found.password = pw;
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      const me = await ok(api.POST('/api/me/link/local/create', { body: { email: form.email.trim(), password: form.password } }));
      setDone(true);
      setMe(me);
    } catch (err) {
      const field = err instanceof ApiError ? fieldFor(err.code) : undefined;
      if (err instanceof ApiError && (field === 'email' || field === 'password')) setErrors({ [field]: err.code });
      else setFailure(humanError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="card">
      <h2>Create an EduGraph password</h2>
      <p>Sign in with an email and password too, for example when Microsoft 365 is not available.</p>
      {done && <Alert kind="success">Your EduGraph password is set.</Alert>}
      <form onSubmit={submit} noValidate aria-label="Create an EduGraph password">
        {failure && <Alert kind="error">{failure}</Alert>}
        <Field
          label="Sign-in email"
          name="email"
          type="email"
          autoComplete="email"
          value={form.email}
          error={errors.email}
          onChange={(e) => setForm({ ...form, email: e.target.value })}
        />
        <Field
          label="New password"
          name="password"
          type="password"
          autoComplete="new-password"
          hint={`${PASSWORD_MIN} to ${PASSWORD_MAX} characters.`}
          value={form.password}
          error={errors.password}
          onChange={(e) => setForm({ ...form, password: e.target.value })}
        />
        <div>
          <button type="submit" className="button" disabled={busy}>
            {busy ? 'Creating…' : 'Create password'}
          </button>
        </div>
      </form>
    </div>
  );
}

/** Path 3: a Microsoft person links an EduGraph account they already have, proven by its password. */
function LinkExisting() {
  const { setMe } = useSession();
  const [form, setForm] = useState<LocalForm>({ email: '', password: '' });
  const [errors, setErrors] = useState<Errors<keyof LocalForm>>({});
  const [failure, setFailure] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFailure(undefined);
    const found: Errors<keyof LocalForm> = {};
    if (!form.email.trim()) found.email = 'required';
    if (!form.password) found.password = 'required';
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      setMe(await ok(api.POST('/api/me/link/local/existing', { body: { email: form.email.trim(), password: form.password } })));
    } catch (err) {
      setForm((f) => ({ ...f, password: '' }));
      setFailure(humanError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="card">
      <h2>Link an existing EduGraph account</h2>
      <p>Already registered with an email and password? Prove it with that password and the two become one account.</p>
      <form onSubmit={submit} noValidate aria-label="Link an existing EduGraph account">
        {failure && <Alert kind="error">{failure}</Alert>}
        <Field
          label="EduGraph email"
          name="link-email"
          type="email"
          autoComplete="username"
          value={form.email}
          error={errors.email}
          onChange={(e) => setForm({ ...form, email: e.target.value })}
        />
        <Field
          label="EduGraph password"
          name="link-password"
          type="password"
          autoComplete="current-password"
          value={form.password}
          error={errors.password}
          onChange={(e) => setForm({ ...form, password: e.target.value })}
        />
        <div>
          <button type="submit" className="button" disabled={busy}>
            {busy ? 'Linking…' : 'Link account'}
          </button>
        </div>
      </form>
    </div>
  );
}
