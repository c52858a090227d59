// "Forgot password?" (issue 17.5, R-B4): asks for a one-time link. The answer is the same
// whether or not an account uses the address, so the page says "if".
import { useRef, useState, type FormEvent } from 'react';
import { api, ok } from '../api/client';
import { humanError } from '../api/errors';
import { Link } from '../router';
import { Alert, Field, Page, focusFirstInvalid } from '../ui';
import { checkEmail } from '../validation';

export function ForgotPassword() {
  const [email, setEmail] = useState('');
  const [error, setError] = useState<string>();
  const [failure, setFailure] = useState<string>();
  const [sentTo, setSentTo] = useState<string>();
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFailure(undefined);
    const found = checkEmail(email);
    setError(found);
    if (found) {
      setTimeout(() => focusFirstInvalid(formRef.current));
      return;
    }
    setBusy(true);
    try {
      await ok(api.POST('/api/auth/password/forgot', { body: { email: email.trim() } }));
      setSentTo(email.trim());
    } catch (err) {
      setFailure(humanError(err));
    } finally {
      setBusy(false);
    }
  };

  if (sentTo) {
    return (
      <Page title="Check your email" narrow>
        <Alert kind="success">
          If an account uses <strong>{sentTo}</strong>, we sent it a link to choose a new password.
        </Alert>
        <p>
          The link works once, for 15 minutes. Nothing arrived? Look in your spam folder, check the address, or{' '}
          <button type="button" className="link-button" onClick={() => setSentTo(undefined)}>
            try again
          </button>
          .
        </p>
        <p>
          <Link to="/signin">Back to sign in</Link>
        </p>
      </Page>
    );
  }

  return (
    <Page title="Forgot your password?" narrow>
      <p>
        Enter the email of your EduGraph account. We will send you a link to choose a new password. (Signing in with
        Microsoft 365? Your password is managed by your school: ask its IT administrator.)
      </p>
      <form ref={formRef} onSubmit={submit} noValidate>
        {failure && <Alert kind="error">{failure}</Alert>}
        <Field
          label="Email"
          name="email"
          type="email"
          autoComplete="username"
          value={email}
          error={error}
          onChange={(e) => setEmail(e.target.value)}
        />
        <button type="submit" className="button" disabled={busy}>
          {busy ? 'Sending…' : 'Send me a link'}
        </button>
      </form>
      <p>
        <Link to="/signin">Back to sign in</Link>
      </p>
    </Page>
  );
}
