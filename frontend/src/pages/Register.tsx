import { type FormEvent, useLayoutEffect, useRef, useState } from 'react';
import { api, ok } from '../api/client';
import { fieldFor, humanError } from '../api/errors';
import { ApiError } from '../api/http';
import { Link } from '../router';
import { Alert, Field, Page, focusFirstInvalid } from '../ui';
import { PALETTE, PASSWORD_MAX, PASSWORD_MIN, validateRegister, type Errors, type RegisterForm } from '../validation';
import { messageFor } from '../api/errors';

type ColorChoice = 'none' | 'custom' | (typeof PALETTE)[number]['name'];

export function Register() {
  const [form, setForm] = useState({ email: '', display_name: '', password: '' });
  const [choice, setChoice] = useState<ColorChoice>('none');
  const [custom, setCustom] = useState('#1e90ff');
  const [show, setShow] = useState(false);
  const [errors, setErrors] = useState<Errors<keyof RegisterForm>>({});
  const [failure, setFailure] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [sentTo, setSentTo] = useState<string>();
  const formRef = useRef<HTMLFormElement>(null);

  // Before paint: the errors and the focus on the first invalid field arrive together.
  useLayoutEffect(() => {
    if (Object.keys(errors).length) focusFirstInvalid(formRef.current);
  }, [errors]);

  const color = choice === 'none' ? '' : choice === 'custom' ? custom : choice;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFailure(undefined);
    const values: RegisterForm = { ...form, favorite_color: color };
    const found = validateRegister(values);
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      const sent = await ok(
        api.POST('/api/auth/local/register', {
          body: {
            email: form.email.trim(),
            password: form.password,
            display_name: form.display_name.trim() || null,
            favorite_color: color || null,
          },
        }),
      );
      // R-B3: the account can do nothing until its email is confirmed with the mailed link.
      setSentTo(sent.email);
      setBusy(false);
    } catch (err) {
      const field = err instanceof ApiError ? fieldFor(err.code) : undefined;
      if (err instanceof ApiError && field && field in values) setErrors({ [field]: err.code });
      else setFailure(humanError(err));
      setBusy(false);
    }
  };

  if (sentTo) {
    return (
      <Page title="Check your email" narrow>
        <Alert kind="success">
          We sent a link to <strong>{sentTo}</strong>. Open it and enter the password you just chose to finish
          creating your account.
        </Alert>
        <p>
          The link works once, for 24 hours. Nothing arrived? Look in your spam folder, or{' '}
          <Link to="/signin">sign in</Link> with your email and password to get a new link.
        </p>
      </Page>
    );
  }

  return (
    <Page title="Create an account" narrow>
      <form ref={formRef} onSubmit={submit} noValidate>
        {failure && <Alert kind="error">{failure}</Alert>}
        <Field
          label="Email"
          name="email"
          type="email"
          autoComplete="email"
          value={form.email}
          error={errors.email}
          onChange={(e) => setForm({ ...form, email: e.target.value })}
        />
        <Field
          label="Your name (optional)"
          name="display_name"
          autoComplete="name"
          maxLength={256}
          hint="How EduGraph shows you. Leave it empty to use the part of your email before the @."
          value={form.display_name}
          onChange={(e) => setForm({ ...form, display_name: e.target.value })}
        />
        <Field
          label="Password"
          name="password"
          type={show ? 'text' : 'password'}
          autoComplete="new-password"
          hint={`${PASSWORD_MIN} to ${PASSWORD_MAX} characters. No other rules: a short sentence is easy to remember and hard to guess. Very common passwords are refused.`}
          value={form.password}
          error={errors.password}
          onChange={(e) => setForm({ ...form, password: e.target.value })}
        />
        <div className="check">
          <input id="show-password" type="checkbox" checked={show} onChange={(e) => setShow(e.target.checked)} />
          <label htmlFor="show-password">Show password</label>
        </div>
        <fieldset
          className={errors.favorite_color ? 'colors field-invalid' : 'colors'}
          aria-describedby={errors.favorite_color ? 'color-error' : undefined}
        >
          <legend>Favourite colour (optional)</legend>
          {errors.favorite_color && (
            <p className="field-error" id="color-error">
              {messageFor(errors.favorite_color)}
            </p>
          )}
          <div className="swatches">
            <label className="swatch-option">
              <input type="radio" name="color" checked={choice === 'none'} onChange={() => setChoice('none')} />
              <span className="swatch swatch-none" aria-hidden="true" />
              None
            </label>
            {PALETTE.map((p) => (
              <label key={p.name} className="swatch-option">
                <input
                  type="radio"
                  name="color"
                  value={p.name}
                  checked={choice === p.name}
                  onChange={() => setChoice(p.name)}
                />
                <span className={`swatch swatch-${p.name}`} aria-hidden="true" />
                {p.name[0]?.toUpperCase() + p.name.slice(1)}
              </label>
            ))}
            <label className="swatch-option">
              <input type="radio" name="color" checked={choice === 'custom'} onChange={() => setChoice('custom')} />
              Other
            </label>
          </div>
          {choice === 'custom' && (
            <div className="field">
              <label htmlFor="custom-color">Pick a colour</label>
              <input
                id="custom-color"
                type="color"
                value={custom}
                onChange={(e) => setCustom(e.target.value)}
                aria-invalid={errors.favorite_color ? true : undefined}
              />
            </div>
          )}
        </fieldset>
        <button type="submit" className="button" disabled={busy}>
          {busy ? 'Creating your account…' : 'Create account'}
        </button>
      </form>
      <p>
        Already have an account? <Link to="/signin">Sign in</Link>
      </p>
    </Page>
  );
}
