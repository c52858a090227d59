// Choosing a new password with a mailed link (issue 17.5, R-B4). The token comes in the
// fragment and leaves the address bar at once. Success signs out everywhere and shows what the
// account is linked to, so a person recovering a hijacked account sees (and can undo) a link.
import { type FormEvent, useLayoutEffect, useRef, useState } from 'react';
import { api, ok, type Schemas } from '../api/client';
import { fieldFor, humanError } from '../api/errors';
import { ApiError } from '../api/http';
import { dropHash, tokenFromHash } from '../lib/fragmentToken';
import { Link } from '../router';
import { Alert, Field, Page, focusFirstInvalid } from '../ui';
import { PASSWORD_MAX, PASSWORD_MIN, checkNewPassword, type Errors } from '../validation';

type Done = Schemas['ResetPasswordResponse'];
type FormKeys = 'new_password' | 'confirm_password';

function LinkInvalid({ message }: { message: string }) {
  return (
    <Page title="This link does not work" narrow>
      <Alert kind="error">{message}</Alert>
      <p>
        <Link to="/forgot-password">Request a new link</Link> · <Link to="/signin">Sign in</Link>
      </p>
    </Page>
  );
}

export function ResetPassword() {
  const [token] = useState(() => tokenFromHash(window.location.hash));
  // Before paint: the token leaves the address bar (and history) as soon as it is read.
  useLayoutEffect(dropHash, []);
  const [form, setForm] = useState({ new_password: '', confirm_password: '' });
  const [errors, setErrors] = useState<Errors<FormKeys>>({});
  const [failure, setFailure] = useState<string>();
  const [invalid, setInvalid] = useState<string>();
  const [done, setDone] = useState<Done>();
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  // Before paint: the errors and the focus on the first invalid field arrive together.
  useLayoutEffect(() => {
    if (Object.keys(errors).length) focusFirstInvalid(formRef.current);
  }, [errors]);

  if (!token) {
    return <LinkInvalid message="This page needs the link from the password reset mail. Open the link in the mail again, or request a new one." />;
  }
  if (invalid) return <LinkInvalid message={invalid} />;

  if (done) {
    return (
      <Page title="Your password was changed" narrow>
        <Alert kind="success">
          You can now sign in{done.email ? <> as <strong>{done.email}</strong></> : null} with your new password. For
          your safety, every device that was signed in to this account was signed out.
        </Alert>
        <h2 className="section-title">Sign-in methods of this account</h2>
        <ul>
          <li>Your EduGraph password{done.email ? ` (${done.email})` : ''}</li>
          {done.linked_identities.map((id) => (
            <li key={`${id.ms_tenant_id}/${id.upn ?? ''}`}>
              Microsoft 365: <strong>{id.display_name || id.upn || 'a Microsoft account'}</strong>
              {id.upn && id.display_name ? ` (${id.upn})` : ''}
              {id.tenant_name ? `, school ${id.tenant_name}` : ''}
            </li>
          ))}
        </ul>
        {done.linked_identities.length > 0 && (
          <p>
            Do not recognise a linked account? Sign in, then unlink it on your{' '}
            <Link to="/account#unlink">Account page</Link>.
          </p>
        )}
        <p>
          <Link to="/signin" className="button">
            Sign in
          </Link>
        </p>
      </Page>
    );
  }

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFailure(undefined);
    const found: Errors<FormKeys> = {};
    const p = checkNewPassword(form.new_password);
    if (p) found.new_password = p;
    else if (form.confirm_password !== form.new_password) found.confirm_password = 'passwords_differ';
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      setDone(await ok(api.POST('/api/auth/password/reset', { body: { token, new_password: form.new_password } })));
    } catch (err) {
      if (err instanceof ApiError && err.code === 'reset_link_invalid') setInvalid(humanError(err));
      else {
        const field = err instanceof ApiError ? fieldFor(err.code, 'new_password') : undefined;
        if (field === 'new_password') setErrors({ new_password: (err as ApiError).code });
        else setFailure(humanError(err));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page title="Choose a new password" narrow>
      <form ref={formRef} onSubmit={submit} noValidate>
        {failure && <Alert kind="error">{failure}</Alert>}
        <Field
          label="New password"
          name="new_password"
          type="password"
          autoComplete="new-password"
          hint={`${PASSWORD_MIN} to ${PASSWORD_MAX} characters. A short sentence is easy to remember and hard to guess.`}
          value={form.new_password}
          error={errors.new_password}
          onChange={(e) => setForm({ ...form, new_password: e.target.value })}
        />
        <Field
          label="New password again"
          name="confirm_password"
          type="password"
          autoComplete="new-password"
          value={form.confirm_password}
          error={errors.confirm_password}
          onChange={(e) => setForm({ ...form, confirm_password: e.target.value })}
        />
        <button type="submit" className="button" disabled={busy}>
          {busy ? 'Saving…' : 'Set new password'}
        </button>
      </form>
    </Page>
  );
}
