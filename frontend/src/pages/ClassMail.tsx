// A teacher mails the class (everyone, its students, its teachers, or chosen students) from
// their own mailbox.
import { useState, type FormEvent } from 'react';
import { api, ok, type ClassDetails } from '../api/client';
import { humanError } from '../api/errors';
import { Alert, Field, TextArea } from '../ui';

type Audience = 'class' | 'students' | 'teachers' | 'selected';

export function ClassMail({ classId, d }: { classId: string; d: ClassDetails }) {
  const students = d.members.filter((m) => m.role === 'student');
  const [audience, setAudience] = useState<Audience>('class');
  const [chosen, setChosen] = useState<string[]>([]);
  const [subject, setSubject] = useState('');
  const [body, setBody] = useState('');
  const [errors, setErrors] = useState<{ subject?: string; body?: string; chosen?: string }>({});
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ kind: 'success' | 'error'; text: string }>();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setResult(undefined);
    const found: typeof errors = {};
    if (!subject.trim()) found.subject = 'required';
    else if (Array.from(subject).length > 255) found.subject = 'invalid_mail';
    if (!body.trim()) found.body = 'required';
    else if (Array.from(body).length > 20000) found.body = 'invalid_mail';
    if (audience === 'selected' && !chosen.length) found.chosen = 'Choose at least one student.';
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      const sent = await ok(
        api.POST('/api/classes/{id}/mail', {
          params: { path: { id: classId } },
          body: { audience, subject: subject.trim(), body, student_ids: audience === 'selected' ? chosen : [] },
        }),
      );
      setResult({ kind: 'success', text: `Sent to ${sent.recipients} ${sent.recipients === 1 ? 'person' : 'people'} from your mailbox.` });
      setSubject('');
      setBody('');
    } catch (err) {
      setResult({ kind: 'error', text: humanError(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <h2>Send mail to the class</h2>
      <p className="hint">The mail goes from your own Microsoft 365 mailbox. At most 20 mails an hour.</p>
      <p className="hint" id="mail-privacy">
        Students receive it as Bcc: they do not see each other&apos;s addresses. You and the other teachers are in
        &quot;To&quot;.
      </p>
      <form onSubmit={submit} noValidate aria-label="Send mail">
        <fieldset className="choices">
          <legend>To</legend>
          {(
            [
              ['class', 'Everyone in the class'],
              ['students', 'All students'],
              ['teachers', 'The teachers'],
              ['selected', 'Chosen students'],
            ] as const
          ).map(([value, label]) => (
            <div key={value} className="check">
              <input
                id={`aud-${value}`}
                type="radio"
                name="audience"
                checked={audience === value}
                onChange={() => setAudience(value)}
              />
              <label htmlFor={`aud-${value}`}>{label}</label>
            </div>
          ))}
          {audience === 'selected' && (
            <div className="pick-list" role="group" aria-label="Students to mail">
              {errors.chosen && <p className="field-error">{errors.chosen}</p>}
              {students.map((s) => (
                <div key={s.id} className="check">
                  <input
                    id={`pick-${s.id}`}
                    type="checkbox"
                    checked={chosen.includes(s.id)}
                    onChange={(e) => setChosen(e.target.checked ? [...chosen, s.id] : chosen.filter((x) => x !== s.id))}
                  />
                  <label htmlFor={`pick-${s.id}`}>{s.display_name ?? 'Student'}</label>
                </div>
              ))}
            </div>
          )}
        </fieldset>
        <Field label="Subject" value={subject} maxLength={255} error={errors.subject} onChange={(e) => setSubject(e.target.value)} />
        <TextArea label="Message" rows={8} value={body} error={errors.body} onChange={(e) => setBody(e.target.value)} />
        {result && <Alert kind={result.kind}>{result.text}</Alert>}
        <div>
          <button type="submit" className="button" disabled={busy}>
            {busy ? 'Sending…' : 'Send mail'}
          </button>
        </div>
      </form>
    </>
  );
}
