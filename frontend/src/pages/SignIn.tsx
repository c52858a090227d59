import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, ok, type Schemas } from '../api/client';
import { keys } from '../api/queries';
import { humanError, signInErrorMessage } from '../api/errors';
import { Link, useNav } from '../router';
import { forgetAccount, lastAccount, useSession, type LastAccount } from '../session';
import { Alert, Field, Page, focusFirstInvalid } from '../ui';
import { validateSignIn, type Errors, type SignInForm } from '../validation';

type AccountHint = Schemas['AccountHint'];

export function SignIn() {
  const { setMe } = useSession();
  const { navigate, flash } = useNav();
  const [form, setForm] = useState<SignInForm>({ email: '', password: '' });
  const [errors, setErrors] = useState<Errors<keyof SignInForm>>({});
  const [failure, setFailure] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [known, setKnown] = useState<LastAccount | null>(() => lastAccount());
  // A Microsoft sign-in that failed comes back as /signin?error=<code>.
  const [microsoftError] = useState(() => {
    const code = new URLSearchParams(window.location.search).get('error');
    return code && /^[a-z_]{1,64}$/.test(code) ? signInErrorMessage(code) : undefined;
  });
  const formRef = useRef<HTMLFormElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  // The Microsoft account last used in this browser (an HttpOnly cookie the server reads back).
  const hint = useQuery({
    queryKey: keys.microsoftHint,
    // 404: none yet; anything else: the button is optional.
    queryFn: (): Promise<AccountHint | null> => ok(api.GET('/api/auth/microsoft/hint')).catch(() => null),
    gcTime: 0,
  });
  const msHint = hint.data ?? null;

  useEffect(() => {
    if (Object.keys(errors).length) focusFirstInvalid(formRef.current);
  }, [errors]);

  const again = (account: LastAccount) => {
    setForm({ email: account.email, password: '' });
    setKnown(null);
    passwordRef.current?.focus();
  };
  const differentAccount = () => {
    forgetAccount();
    setKnown(null);
    setForm({ email: '', password: '' });
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFailure(undefined);
    const found = validateSignIn(form);
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      const me = await ok(
        api.POST('/api/auth/local/login', { body: { email: form.email.trim(), password: form.password } }),
      );
      setMe(me);
      navigate('/', { replace: true });
    } catch (err) {
      setFailure(humanError(err));
      setForm((f) => ({ ...f, password: '' }));
      setBusy(false);
    }
  };

  return (
    <Page title="Sign in" narrow>
      {flash && <Alert kind="info">{flash}</Alert>}
      {microsoftError && <Alert kind="error">{microsoftError}</Alert>}
      {known && (
        <div className="card known-account">
          <p>
            Welcome back. You last signed in as <strong>{known.name}</strong> ({known.email}).
          </p>
          <div className="actions">
            <button type="button" className="button" onClick={() => again(known)}>
              Sign in again as {known.name}
            </button>
            <button type="button" className="button button-secondary" onClick={differentAccount}>
              Use a different account
            </button>
          </div>
        </div>
      )}
      {msHint && (
        <div className="card known-account">
          <p>
            You last used Microsoft 365 here as <strong>{msHint.name || msHint.login_hint}</strong>
            {msHint.name && <> ({msHint.login_hint})</>}.
          </p>
          <div className="actions">
            <a className="button" href={`/auth/microsoft/login?login_hint=${encodeURIComponent(msHint.login_hint)}`}>
              Sign in again as {msHint.name || msHint.login_hint}
            </a>
            <a className="button button-secondary" href="/auth/microsoft/login?prompt=select_account">
              Use a different account
            </a>
          </div>
        </div>
      )}
      <a className="button button-microsoft" href="/auth/microsoft/login">
        <span className="ms-logo" aria-hidden="true">
          <span />
          <span />
          <span />
          <span />
        </span>
        Sign in with Microsoft
      </a>
      <p className="divider">
        <span>or with your EduGraph password</span>
      </p>
      <form ref={formRef} onSubmit={submit} noValidate aria-describedby={failure ? 'signin-failure' : undefined}>
        {failure && (
          <div id="signin-failure">
            <Alert kind="error">{failure}</Alert>
          </div>
        )}
        <Field
          label="Email"
          name="email"
          type="email"
          autoComplete="username"
          value={form.email}
          error={errors.email}
          onChange={(e) => setForm({ ...form, email: e.target.value })}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          ref={passwordRef}
          value={form.password}
          error={errors.password}
          onChange={(e) => setForm({ ...form, password: e.target.value })}
        />
        <button type="submit" className="button" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p>
        New here? <Link to="/register">Create an account</Link>
      </p>
    </Page>
  );
}
