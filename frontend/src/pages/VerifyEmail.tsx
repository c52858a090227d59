// Confirming the email of a new account (issue 17.5, R-B3): the mailed link plus the password
// chosen at registration (so only the account's owner can confirm it). Signs in on success.
import { type FormEvent, useLayoutEffect, useRef, useState } from 'react';
import { api, ok } from '../api/client';
import { humanError } from '../api/errors';
import { ApiError } from '../api/http';
import { dropHash, tokenFromHash } from '../lib/fragmentToken';
import { Link, useNav } from '../router';
import { useSession } from '../session';
import { Alert, Field, Page, focusFirstInvalid } from '../ui';

export function VerifyEmail() {
  const { setMe } = useSession();
  const { navigate } = useNav();
  const [token] = useState(() => tokenFromHash(window.location.hash));
  // Before paint: the token leaves the address bar (and history) as soon as it is read.
  useLayoutEffect(dropHash, []);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const [failure, setFailure] = useState<string>();
  const [invalid, setInvalid] = useState<string>();
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  if (!token || invalid) {
    return (
      <Page title="This link does not work" narrow>
        <Alert kind="error">
          {invalid ?? 'This page needs the link from the confirmation mail. Open the link in the mail again.'}
        </Alert>
        <p>
          Sign in with your email and password: if your address is not confirmed yet, we send you a new link.
        </p>
        <p>
          <Link to="/signin">Sign in</Link>
        </p>
      </Page>
    );
  }

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFailure(undefined);
    if (!password) {
      setError('required');
      setTimeout(() => focusFirstInvalid(formRef.current));
      return;
    }
    setError(undefined);
    setBusy(true);
    try {
      const me = await ok(api.POST('/api/auth/email/verify', { body: { token, password } }));
      setMe(me);
      navigate('/', { replace: true, flash: `Your email is confirmed. Welcome to EduGraph, ${me.user.display_name}!` });
    } catch (err) {
      if (err instanceof ApiError && err.code === 'verification_link_invalid') setInvalid(humanError(err));
      else {
        setFailure(
          err instanceof ApiError && err.code === 'invalid_credentials'
            ? 'That is not the password of this account. Enter the password you chose when you registered.'
            : humanError(err),
        );
        setPassword('');
      }
      setBusy(false);
    }
  };

  return (
    <Page title="Confirm your email" narrow>
      <p>To finish creating your account, enter the password you chose when you registered.</p>
      <form ref={formRef} onSubmit={submit} noValidate>
        {failure && <Alert kind="error">{failure}</Alert>}
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          error={error}
          onChange={(e) => setPassword(e.target.value)}
        />
        <button type="submit" className="button" disabled={busy}>
          {busy ? 'Confirming…' : 'Confirm and sign in'}
        </button>
      </form>
      <p className="muted small">
        Did not register? Then someone else used your address: choose{' '}
        <Link to="/forgot-password">Forgot password?</Link> to take the account over.
      </p>
    </Page>
  );
}
