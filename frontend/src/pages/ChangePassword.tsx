import { type FormEvent, useLayoutEffect, useRef, useState } from 'react';
import { api, ok, type Me } from '../api/client';
import { fieldFor, humanError } from '../api/errors';
import { ApiError } from '../api/http';
import { Link, useNav } from '../router';
import { useSession } from '../session';
import { Alert, Field, Page, focusFirstInvalid } from '../ui';
import { PASSWORD_MAX, PASSWORD_MIN, validateChangePassword, type ChangePasswordForm, type Errors } from '../validation';

const EMPTY: ChangePasswordForm = { current_password: '', new_password: '', confirm_password: '' };

export function ChangePassword({ me }: { me: Me }) {
  const { setMe } = useSession();
  const { navigate } = useNav();
  const [form, setForm] = useState(EMPTY);
  const [errors, setErrors] = useState<Errors<keyof ChangePasswordForm>>({});
  const [failure, setFailure] = useState<string>();
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  // Before paint: the errors and the focus on the first invalid field arrive together.
  useLayoutEffect(() => {
    if (Object.keys(errors).length) focusFirstInvalid(formRef.current);
  }, [errors]);

  if (!me.user.has_local_password) {
    return (
      <Page title="Change password" narrow>
        <div className="empty">
          <p>You sign in with Microsoft and have no EduGraph password, so there is nothing to change here.</p>
          <p>
            <Link to="/">Back to the home page</Link>
          </p>
        </div>
      </Page>
    );
  }

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFailure(undefined);
    setDone(false);
    const found = validateChangePassword(form);
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      const updated = await ok(
        api.POST('/api/me/password', {
          body: { current_password: form.current_password, new_password: form.new_password },
        }),
      );
      setMe(updated);
      setForm(EMPTY);
      setDone(true);
    } catch (err) {
      const field = err instanceof ApiError ? fieldFor(err.code, 'new_password') : undefined;
      if (err instanceof ApiError && err.code === 'unauthenticated') {
        setMe(null);
        navigate('/signin', { flash: 'Your session has ended. Sign in again to change your password.' });
        return;
      }
      if (err instanceof ApiError && err.code === 'invalid_credentials') {
        setForm((f) => ({ ...f, current_password: '' }));
        setErrors({ current_password: 'wrong_current' });
      }
      else if (err instanceof ApiError && field === 'new_password') setErrors({ new_password: err.code });
      else setFailure(humanError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page title="Change password" narrow>
      {done && (
        <Alert kind="success">Your password was changed. You stay signed in here; other devices were signed out.</Alert>
      )}
      <form ref={formRef} onSubmit={submit} noValidate>
        {failure && <Alert kind="error">{failure}</Alert>}
        <Field
          label="Current password"
          name="current_password"
          type="password"
          autoComplete="current-password"
          value={form.current_password}
          error={errors.current_password}
          onChange={(e) => setForm({ ...form, current_password: e.target.value })}
        />
        <Field
          label="New password"
          name="new_password"
          type="password"
          autoComplete="new-password"
          hint={`${PASSWORD_MIN} to ${PASSWORD_MAX} characters. Very common passwords are refused.`}
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
          {busy ? 'Changing…' : 'Change password'}
        </button>
      </form>
    </Page>
  );
}
