import { useQuery } from '@tanstack/react-query';
import { type FormEvent, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { api, ok, type Schemas } from '../api/client';
import { keys } from '../api/queries';
import { humanError, signInErrorMessage } from '../api/errors';
import { Link, useNav } from '../router';
import { forgetAccount, lastAccount, rememberChoice, setRememberChoice, takeAfterUnlink, useSession, type LastAccount } from '../session';
import { Alert, Field, Page, focusFirstInvalid } from '../ui';
import { safeReturnTo } from '../lib/returnTo';
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
  const [remember, setRemember] = useState(rememberChoice);
  // Just unlinked from Microsoft: the EduGraph password comes first (issue 16: unlink is no trap).
  const [afterUnlink] = useState(takeAfterUnlink);
  // A Microsoft sign-in that failed comes back as /signin?error=<code>.
  const [errorCode] = useState(() => {
    const code = new URLSearchParams(window.location.search).get('error');
    return code && /^[a-z_]{1,64}$/.test(code) ? code : undefined;
  });
  const microsoftError = errorCode ? signInErrorMessage(errorCode) : undefined;
  // Where to go afterwards (a page of ours, e.g. after an expired session: back to the work).
  const [returnTo] = useState(() => safeReturnTo(new URLSearchParams(window.location.search).get('return_to')));
  useEffect(() => {
    if (afterUnlink) setForm((f) => ({ ...f, email: afterUnlink }));
  }, [afterUnlink]);
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

  // Before paint: the errors and the focus on the first invalid field arrive together.
  useLayoutEffect(() => {
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
      setRememberChoice(remember);
      setMe(me);
      navigate(returnTo ?? '/', { replace: true });
    } catch (err) {
      setFailure(humanError(err));
      setForm((f) => ({ ...f, password: '' }));
      setBusy(false);
    }
  };

  const microsoftParams = new URLSearchParams();
  if (remember) microsoftParams.set('remember', '1');
  if (returnTo) microsoftParams.set('return_to', returnTo);
  const withParams = (base: string) => {
    const extra = microsoftParams.toString();
    return extra ? `${base}${base.includes('?') ? '&' : '?'}${extra}` : base;
  };
  const onboardLink = `${window.location.origin}/auth/microsoft/onboard`;
  const tenantNotApproved = errorCode === 'tenant_not_onboarded' || errorCode === 'consent_required';
  const localFirst = Boolean(afterUnlink) || errorCode === 'microsoft_unlinked';

  const microsoft = (
    <>
      {msHint && !known && !localFirst && (
        <div className="card known-account">
          <p>
            You last used Microsoft 365 here as <strong>{msHint.name || msHint.login_hint}</strong>
            {msHint.name && <> ({msHint.login_hint})</>}.
          </p>
          <div className="actions">
            <a className="button" href={withParams(`/auth/microsoft/login?login_hint=${encodeURIComponent(msHint.login_hint)}`)}>
              Sign in again as {msHint.name || msHint.login_hint}
            </a>
            <a className="button button-secondary" href={withParams('/auth/microsoft/login?prompt=select_account')}>
              Use a different account
            </a>
          </div>
        </div>
      )}
      <a className={`button button-microsoft${localFirst ? ' button-secondary' : ''}`} href={withParams('/auth/microsoft/login')}>
        <span className="ms-logo" aria-hidden="true">
          <span />
          <span />
          <span />
          <span />
        </span>
        Sign in with Microsoft
      </a>
      <p className="muted small">
        With your school account (e.g. name@yourschool.edu). Personal Microsoft accounts (outlook.com, hotmail.com,
        live.com) cannot open school data.
      </p>
    </>
  );
  const local = (
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
      <p className="small">
        <Link to="/forgot-password">Forgot password?</Link>
      </p>
    </form>
  );

  return (
    <Page title="Sign in" narrow>
      <p className="lead">
        EduGraph is your school’s portal on Microsoft 365: classes, classmates, assignments, documents and seating
        charts in one place. <strong>Teachers, students and school staff</strong> sign in with their school’s Microsoft
        365 account. Had an EduGraph password made for you, or created one? Use it below.
      </p>
      {flash && <Alert kind="info">{flash}</Alert>}
      {microsoftError && (
        <Alert kind="error">
          {microsoftError}
          {tenantNotApproved && (
            <>
              {' '}
              Send this link to your school’s Microsoft 365 administrator:{' '}
              <a href={onboardLink} className="break-anywhere">
                {onboardLink}
              </a>
            </>
          )}
        </Alert>
      )}
      {returnTo && !flash && <Alert kind="info">Sign in to go back to where you were. Unsaved changes are kept on this device.</Alert>}
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
      <div className="field-check">
        <input
          id="remember-me"
          type="checkbox"
          checked={remember}
          aria-describedby="remember-hint"
          onChange={(e) => {
            setRemember(e.target.checked);
            setRememberChoice(e.target.checked);
          }}
        />
        <label htmlFor="remember-me">Remember me on this device</label>
        <p className="muted small" id="remember-hint">
          Leave it off on a shared computer: then nobody sees who signed in here after you sign out.
        </p>
      </div>
      {localFirst ? (
        <>
          <h2 className="section-title">With your EduGraph password</h2>
          {local}
          <p className="divider">
            <span>or with Microsoft</span>
          </p>
          {microsoft}
        </>
      ) : (
        <>
          {microsoft}
          <p className="divider">
            <span>or with your EduGraph password</span>
          </p>
          {local}
        </>
      )}
      <p>
        New here? <Link to="/register">Create an account</Link>
      </p>
      <div className="card">
        <h2 className="section-title">New school?</h2>
        <p>
          An administrator can approve EduGraph for it: your school’s Microsoft 365 administrator signs in at{' '}
          <a href="/auth/microsoft/onboard">Approve EduGraph for your school</a> once, then everyone at the school signs
          in with Microsoft.
        </p>
      </div>
    </Page>
  );
}
