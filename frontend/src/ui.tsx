// Small accessible building blocks: page frame (title + focus on navigation), labelled
// fields with hints and errors, alerts and loading states.
import { useQuery, useQueryClient, type QueryKey, type UseQueryOptions } from '@tanstack/react-query';
import { type InputHTMLAttributes, type ReactNode, type TextareaHTMLAttributes, forwardRef, useCallback, useEffect, useId, useLayoutEffect, useRef, useState } from 'react';
import { photoUrl } from './api/client';
import { followMicrosoftContinue, graphDiagnostics, humanError, messageFor, microsoftContinueHref, type Overrides } from './api/errors';
import { ApiError } from './api/http';
import { Link } from './router';

/** Whether a page has been shown since the document loaded. */
let shownOne = false;

/** A page: sets the document title and, after client-side navigation, moves focus to its
 * heading (screen readers announce the new page; keyboard users continue from the top). The
 * first page of a load leaves focus alone, so the first Tab reaches "Skip to content". */
export function Page({ title, children, narrow }: { title: string; children: ReactNode; narrow?: boolean }) {
  const h1 = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · EduGraph`;
    if (shownOne) h1.current?.focus();
    shownOne = true;
  }, [title]);
  return (
    <section className={narrow ? 'page page-narrow' : 'page'} aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1} ref={h1}>
        {title}
      </h1>
      {children}
    </section>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}
    </p>
  );
}

export function Alert({ kind, children }: { kind: 'error' | 'success' | 'info'; children: ReactNode }) {
  return (
    <div className={`alert alert-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

type FieldProps = {
  label: string;
  /** An error code (mapped to a message) or undefined. */
  error?: string;
  hint?: ReactNode;
} & InputHTMLAttributes<HTMLInputElement>;

/** A labelled input with its hint and error. A `ref` reaches the `<input>` (`forwardRef`: the
 * app runs on preact/compat, which passes `ref` to a function component only this way). */
export const Field = forwardRef<HTMLInputElement, FieldProps>(function Field({ label, error, hint, id, ...input }, ref) {
  const auto = useId();
  const fieldId = id ?? auto;
  const hintId = `${fieldId}-hint`;
  const errorId = `${fieldId}-error`;
  const describedBy = [hint ? hintId : '', error ? errorId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={error ? 'field field-invalid' : 'field'}>
      <label htmlFor={fieldId}>{label}</label>
      {hint && (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      )}
      {error && (
        <p className="field-error" id={errorId}>
          {messageFor(error)}
        </p>
      )}
      <input ref={ref} id={fieldId} aria-invalid={error ? true : undefined} aria-describedby={describedBy} {...input} />
    </div>
  );
});

/** The first invalid field of a form gets focus after a failed submit. */
export function focusFirstInvalid(form: HTMLFormElement | null): void {
  form?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
}

/** A colour dot for a validated `#rrggbb` value, set through the CSSOM (the CSP forbids style attributes). */
export function Swatch({ color, label }: { color: string | null | undefined; label?: string }) {
  if (!color || !/^#[0-9a-fA-F]{6}$/.test(color)) return null;
  return (
    <span
      className="swatch swatch-inline"
      ref={(el) => el?.style.setProperty('background-color', color)}
      role={label ? 'img' : undefined}
      aria-label={label}
      aria-hidden={label ? undefined : true}
      title={label}
    />
  );
}

/** A person's photo from the photo proxy (a default avatar when they have none). Decorative: the name is beside it. */
export function Avatar({ personId, size = 'normal' }: { personId: string; size?: 'normal' | 'small' }) {
  return (
    <img
      className={size === 'small' ? 'avatar avatar-small' : 'avatar'}
      src={photoUrl(personId)}
      alt=""
      loading="lazy"
      decoding="async"
      width={size === 'small' ? 28 : 40}
      height={size === 'small' ? 28 : 40}
    />
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

/** "You may not see this" — for a page the person's role does not allow. */
export function NotAllowed({ what, children }: { what: string; children?: ReactNode }) {
  return (
    <Page title="Not allowed" narrow>
      <Alert kind="info">{what}</Alert>
      {children}
      <p>
        <Link to="/">Go to the home page</Link>
      </p>
    </Page>
  );
}

/** A failed load: the human message, Microsoft's request id when Graph failed, and "Try again". */
export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  const needsMicrosoft = error instanceof ApiError && error.code === 'microsoft_signin_required';
  const needsSchool = error instanceof ApiError && error.code === 'school_account_required';
  useEffect(() => {
    // Microsoft confirms the person (silently when it can), then brings them back here.
    if (needsMicrosoft) followMicrosoftContinue(error, window.location.pathname + window.location.search);
  }, [needsMicrosoft, error]);
  return (
    <div className="error-state">
      <Alert kind="error">
        {humanError(error)}
        <GraphDiagnostics error={error} />
      </Alert>
      <div className="actions">
        {needsMicrosoft && (
          <a className="button" href={microsoftContinueHref(error, window.location.pathname + window.location.search)}>
            Sign in with Microsoft
          </a>
        )}
        {needsSchool && (
          <a className="button" href="/auth/microsoft/login?intent=link">
            Connect your school account
          </a>
        )}
        {retry && !needsSchool && (
          <button type="button" className="button button-secondary" onClick={retry}>
            Try again
          </button>
        )}
      </div>
    </div>
  );
}

/** What Microsoft Graph said (status, code, its own message, request id) when Graph refused,
 * so the person can report it to Microsoft. Nothing for other failures. */
export function GraphDiagnostics({ error }: { error: unknown }) {
  const d = graphDiagnostics(error);
  if (!d) return null;
  return (
    <dl className="detail graph-diagnostics" aria-label="Microsoft Graph diagnostics">
      {(d.code || d.status) && (
        <>
          <dt>Microsoft Graph error</dt>
          <dd className="mono">{[d.code, d.status ? `HTTP ${d.status}` : ''].filter(Boolean).join(', ')}</dd>
        </>
      )}
      {d.message && (
        <>
          <dt>Microsoft’s message</dt>
          <dd>{d.message}</dd>
        </>
      )}
      {d.requestId && (
        <>
          <dt>Request id</dt>
          <dd className="mono">{d.requestId}</dd>
        </>
      )}
    </dl>
  );
}

/** A failed action: the human message and, for Graph failures, Graph's diagnostics. */
export function ActionError({ error, overrides }: { error: unknown; overrides?: Overrides }) {
  const needsMicrosoft = error instanceof ApiError && error.code === 'microsoft_signin_required';
  return (
    <Alert kind="error">
      {humanError(error, overrides)}
      <GraphDiagnostics error={error} />
      {needsMicrosoft && (
        <span className="detail">
          <a href={microsoftContinueHref(error, window.location.pathname + window.location.search)}>Sign in with Microsoft</a>{' '}
          and try again.
        </span>
      )}
    </Alert>
  );
}

export type Loadable<T> =
  | { status: 'loading'; data?: undefined; error?: undefined }
  | { status: 'ready'; data: T; error?: undefined }
  | { status: 'error'; data?: undefined; error: unknown };

export type Loaded<T> = Loadable<T> & {
  /** Starts over: shows "Loading…" and fetches again ("Try again"). */
  reload: () => void;
  /** Fetches again in the background, keeping what is shown until the answer arrives. */
  refresh: () => Promise<void>;
  /** Changes what is shown (and cached) after an action answered with the new state. */
  setData: (f: (d: T) => T) => void;
};

/** The state of what `a` and `b` load together: loading until both are there, the first error. */
export function both<A, B>(a: Loadable<A>, b: Loadable<B>): Loadable<[A, B]> {
  if (a.status === 'error') return a;
  if (b.status === 'error') return b;
  if (a.status === 'loading' || b.status === 'loading') return { status: 'loading' };
  return { status: 'ready', data: [a.data, b.data] };
}

/** What a query (api/queries.ts) shows: loading, its data, or its error. A failed background
 * refresh keeps what is shown (the next action reports its own error). */
export function loadableOf<T>(q: { data: T | undefined; error: unknown; isError: boolean; isFetching: boolean }): Loadable<T> {
  if (q.data !== undefined) return { status: 'ready', data: q.data };
  if (q.isError && !q.isFetching) return { status: 'error', error: q.error };
  return { status: 'loading' };
}

/** Reads a query of api/queries.ts; answers for an older key never show. */
export function useLoad<T, K extends QueryKey>(options: UseQueryOptions<T, Error, T, K> & { queryKey: K }): Loaded<T> {
  const client = useQueryClient();
  const q = useQuery(options);
  const { queryKey } = options;
  const reload = useCallback(() => void client.resetQueries({ queryKey, exact: true }), [client, queryKey]);
  const refresh = useCallback(() => client.invalidateQueries({ queryKey, exact: true }), [client, queryKey]);
  const setData = useCallback(
    (f: (d: T) => T) => client.setQueryData<T>(queryKey, (d) => (d === undefined ? d : f(d))),
    [client, queryKey],
  );
  return { ...loadableOf(q), reload, refresh, setData };
}

/** A button that asks "are you sure?" inline (no browser pop-up), then runs `onConfirm`. */
export function ConfirmButton({
  label,
  question,
  confirmLabel,
  onConfirm,
  busy,
  danger,
  small,
  ariaLabel,
}: {
  label: string;
  /** A fuller name for screen readers when the visible label is short ("Remove" → "Remove Ava Garcia"). */
  ariaLabel?: string;
  question: string;
  confirmLabel: string;
  onConfirm: () => void;
  busy?: boolean;
  danger?: boolean;
  small?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const yes = useRef<HTMLButtonElement>(null);
  const ask = useRef<HTMLButtonElement>(null);
  // Before paint (preact runs plain effects a frame later): the question and its focus arrive together.
  useLayoutEffect(() => {
    if (asking) yes.current?.focus();
  }, [asking]);
  const size = small ? ' button-small' : '';
  if (!asking) {
    return (
      <button
        ref={ask}
        type="button"
        className={`button button-secondary${danger ? ' button-danger-outline' : ''}${size}`}
        onClick={() => setAsking(true)}
        disabled={busy}
        aria-label={ariaLabel}
      >
        {label}
      </button>
    );
  }
  return (
    <span className="confirm" role="group" aria-label={question}>
      <span className="confirm-question">{question}</span>
      <button
        ref={yes}
        type="button"
        className={`button${danger ? ' button-danger' : ''}${size}`}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
        disabled={busy}
      >
        {confirmLabel}
      </button>
      <button type="button" className={`button button-secondary${size}`} onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

/** A modal dialog on the native `<dialog>` (focus is kept inside; Escape closes it). */
export function Dialog({
  open,
  title,
  onClose,
  children,
}: {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} className="dialog" aria-labelledby={titleId} onClose={onClose} onCancel={onClose}>
      <div className="dialog-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="button button-secondary button-small" onClick={onClose} aria-label="Close">
          ×
        </button>
      </div>
      {open && children}
    </dialog>
  );
}

/** A labelled multi-line text field. */
export function TextArea({
  label,
  error,
  hint,
  id,
  ...rest
}: { label: string; error?: string; hint?: ReactNode } & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const auto = useId();
  const fieldId = id ?? auto;
  const describedBy = [hint ? `${fieldId}-hint` : '', error ? `${fieldId}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={error ? 'field field-invalid' : 'field'}>
      <label htmlFor={fieldId}>{label}</label>
      {hint && (
        <p className="hint" id={`${fieldId}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p className="field-error" id={`${fieldId}-error`}>
          {messageFor(error)}
        </p>
      )}
      <textarea id={fieldId} aria-invalid={error ? true : undefined} aria-describedby={describedBy} {...rest} />
    </div>
  );
}
