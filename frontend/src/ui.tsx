// Small accessible building blocks: page frame (title + focus on navigation), labelled
// fields with hints and errors, alerts and loading states.
import { useEffect, useId, useRef, type InputHTMLAttributes, type ReactNode, type Ref } from 'react';
import { messageFor } from './api/errors';

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
  ref?: Ref<HTMLInputElement>;
} & InputHTMLAttributes<HTMLInputElement>;

export function Field({ label, error, hint, id, ref, ...input }: FieldProps) {
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
}

/** The first invalid field of a form gets focus after a failed submit. */
export function focusFirstInvalid(form: HTMLFormElement | null): void {
  form?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
}
