// Attaching a file: the checks the server makes (name, empty, size) before anything is sent,
// then the upload with a progress bar of the bytes sent, a Cancel button, and the server's
// refusal in words. Used for assignment files (teachers) and submission files (students).
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { csrfToken, type Resource } from '../api/client';
import { humanError, messageFor } from '../api/errors';
import { fileProblem, formatBytes, percent, uploadFile } from '../lib/upload';
import { Alert } from '../ui';

export interface UploadState {
  name: string;
  loaded: number;
  total: number;
}

/** The progress bar of one upload (role progressbar, with the percent as text too). */
export function UploadProgress({ upload, label, done }: { upload: UploadState; label: string; done?: boolean }) {
  const pct = percent(upload.loaded, upload.total);
  const sent = upload.total > 0 && upload.loaded >= upload.total;
  return (
    <div className="upload-progress">
      <div
        className="progress"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        aria-valuetext={`${pct}%`}
      >
        <div className="progress-bar" ref={(el) => el?.style.setProperty('width', `${pct}%`)} />
      </div>
      <p className="small" aria-live="polite">
        <strong>{pct}%</strong> · {formatBytes(Math.min(upload.loaded, upload.total))} of {formatBytes(upload.total)}
        {sent && !done && ' — sent; saving it in Microsoft 365…'}
        {done && ' — attached.'}
      </p>
    </div>
  );
}

/** A chosen file not attached yet, and how to attach it now (issue 16: "Hand in" attaches it first). */
export interface PendingUpload {
  name: string;
  /** Uploads it; true when it is attached. */
  attach: () => Promise<boolean>;
}

export function FileUpload({
  label,
  urlFor,
  onUploaded,
  onBusy,
  disabledReason,
  hint,
  pending,
}: {
  /** Kept up to date with the chosen-but-not-attached file (null when there is none). */
  pending?: { current: PendingUpload | null };
  /** The file field's label, e.g. "File for students". */
  label: string;
  /** The upload URL for a file name. */
  urlFor: (name: string) => string;
  onUploaded: (r: Resource, fileName: string) => void;
  /** Told when an upload starts and ends (e.g. to hold "Publish" until files are attached). */
  onBusy?: (busy: boolean) => void;
  /** When set, no upload is possible and this says why. */
  disabledReason?: string;
  hint?: string;
}) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File | null>(null);
  const [problem, setProblem] = useState<string>();
  const [upload, setUpload] = useState<UploadState | null>(null);
  /** The upload is over (the bar stays at 100 % next to the result until another file is chosen). */
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ kind: 'success' | 'error'; text: string }>();
  const abort = useRef<AbortController | null>(null);
  useEffect(() => () => abort.current?.abort(), []);

  const choose = (f: File | null) => {
    setFile(f);
    setResult(undefined);
    setUpload(null);
    setProblem(f ? fileProblem(f) : undefined);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await attach();
  };

  const attach = async (): Promise<boolean> => {
    if (!file) {
      setProblem('required');
      input.current?.focus();
      return false;
    }
    const found = fileProblem(file);
    setProblem(found);
    if (found) {
      input.current?.focus();
      return false;
    }
    const name = file.name.trim();
    const ctrl = new AbortController();
    abort.current = ctrl;
    setResult(undefined);
    setUpload({ name, loaded: 0, total: file.size });
    setBusy(true);
    onBusy?.(true);
    try {
      const r = await uploadFile<Resource>({
        url: urlFor(name),
        body: file,
        csrf: csrfToken,
        signal: ctrl.signal,
        onProgress: (loaded, total) => setUpload({ name, loaded, total }),
      });
      setResult({ kind: 'success', text: `“${r.display_name ?? name}” is attached.` });
      setUpload({ name, loaded: file.size, total: file.size });
      onUploaded(r, name);
      setFile(null);
      if (input.current) input.current.value = '';
      return true;
    } catch (err) {
      setResult({ kind: 'error', text: `“${name}” was not attached: ${humanError(err)}` });
      setUpload(null);
      return false;
    } finally {
      abort.current = null;
      setBusy(false);
      onBusy?.(false);
    }
  };

  if (pending) pending.current = file && !busy ? { name: file.name, attach } : null;

  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  return (
    <form className="file-upload" onSubmit={submit} noValidate aria-label={label}>
      <div className={problem ? 'field field-invalid' : 'field'}>
        <label htmlFor={id}>{label}</label>
        <p className="hint" id={hintId}>
          {disabledReason ?? hint ?? 'Any file up to 50 MB.'}
        </p>
        {problem && (
          <p className="field-error" id={errorId}>
            {messageFor(problem)}
            {file && problem === 'file_too_large' && ` This one is ${formatBytes(file.size)}.`}
          </p>
        )}
        <input
          ref={input}
          id={id}
          type="file"
          disabled={Boolean(disabledReason) || busy}
          aria-invalid={problem ? true : undefined}
          aria-describedby={[hintId, problem ? errorId : ''].filter(Boolean).join(' ')}
          onChange={(e) => choose(e.target.files?.[0] ?? null)}
        />
      </div>
      {upload && !(disabledReason && !busy) && <UploadProgress upload={upload} label={`${busy ? 'Uploading' : 'Uploaded'} ${upload.name}`} done={!busy} />}
      {result && !(disabledReason && !busy && result.kind === 'success') && <Alert kind={result.kind}>{result.text}</Alert>}
      <div className="actions">
        <button type="submit" className="button" disabled={Boolean(disabledReason) || busy}>
          {busy ? 'Attaching…' : 'Attach file'}
        </button>
        {busy && (
          <button type="button" className="button button-secondary" onClick={() => abort.current?.abort()}>
            Cancel upload
          </button>
        )}
      </div>
    </form>
  );
}
