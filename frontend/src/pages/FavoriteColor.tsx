import { useState, type FormEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api, ok, type Me } from '../api/client';
import { humanError, messageFor } from '../api/errors';
import { useSession } from '../session';
import { Alert, Swatch } from '../ui';
import { PALETTE, checkColor } from '../validation';

/** Choose a favourite colour: the palette or any hex value (never free text into CSS). */
export function FavoriteColorForm({ me, onSaved }: { me: Me; onSaved?: (color: string) => void }) {
  const { setMe } = useSession();
  const current = me.user.favorite_color ?? '';
  const inPalette = PALETTE.find((p) => p.hex === current.toLowerCase());
  const client = useQueryClient();
  const [choice, setChoice] = useState<string>(inPalette?.name ?? (current ? 'custom' : ''));
  const [custom, setCustom] = useState(current && !inPalette ? current : '#1e90ff');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ kind: 'success' | 'error'; text: string }>();

  const value = choice === 'custom' ? custom : choice;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setResult(undefined);
    const problem = value ? checkColor(value) : 'required';
    if (problem) {
      setResult({ kind: 'error', text: problem === 'required' ? 'Choose a colour first.' : messageFor(problem) });
      return;
    }
    setBusy(true);
    try {
      const updated = await ok(api.POST('/api/me/favorite-color', { body: { favorite_color: value } }));
      setMe(updated);
      // Classes show each person's colour.
      void client.invalidateQueries({ queryKey: ['classes'] });
      setResult({ kind: 'success', text: `Saved: your favourite colour is now ${updated.user.favorite_color}.` });
      onSaved?.(updated.user.favorite_color ?? value);
    } catch (err) {
      setResult({ kind: 'error', text: humanError(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate className="color-form">
      <fieldset className="colors">
        <legend>
          Favourite colour{' '}
          {current ? (
            <span className="muted">
              (now <Swatch color={current} /> {current})
            </span>
          ) : (
            <span className="muted">(none yet)</span>
          )}
        </legend>
        <div className="swatches">
          {PALETTE.map((p) => (
            <label key={p.name} className="swatch-option">
              <input type="radio" name="fav-color" checked={choice === p.name} onChange={() => setChoice(p.name)} />
              <span className={`swatch swatch-${p.name}`} aria-hidden="true" />
              {p.name[0]?.toUpperCase() + p.name.slice(1)}
            </label>
          ))}
          <label className="swatch-option">
            <input type="radio" name="fav-color" checked={choice === 'custom'} onChange={() => setChoice('custom')} />
            Other
          </label>
        </div>
        {choice === 'custom' && (
          <div className="field">
            <label htmlFor="fav-custom">Pick a colour</label>
            <input id="fav-custom" type="color" value={custom} onChange={(e) => setCustom(e.target.value)} />
          </div>
        )}
      </fieldset>
      {result && <Alert kind={result.kind}>{result.text}</Alert>}
      <div>
        <button type="submit" className="button" disabled={busy}>
          {busy ? 'Saving…' : 'Save colour'}
        </button>
      </div>
    </form>
  );
}
