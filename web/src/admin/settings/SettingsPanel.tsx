import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { hospitalSettingsSchema } from '../../../../server/hospitals/settings.js';
import { Field } from '../../components/Field.js';
import { errorMessage, useTRPC } from '../../lib/api.js';
import { roleLabel } from '../../lib/format.js';
import { validate } from '../../lib/validate.js';

const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
const ROLES = ['operator', 'nurse', 'doctor', 'head_doctor', 'admin'] as const;
type Levels = Record<(typeof PRIORITIES)[number], string[]>;

/** Hospital settings: the escalation policy (seconds per level, per priority), 2FA roles, session length. */
export function SettingsPanel() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const hospital = useQuery(trpc.hospitals.getCurrent.queryOptions());
  const [levels, setLevels] = useState<Levels | null>(null);
  const [twoFactor, setTwoFactor] = useState<string[]>([]);
  const [sessionHours, setSessionHours] = useState('12');
  const [error, setError] = useState<string | null>(null);
  const save = useMutation(
    trpc.hospitals.updateSettings.mutationOptions({ onSuccess: () => qc.invalidateQueries({ queryKey: trpc.hospitals.getCurrent.queryKey() }) }),
  );

  const settings = hospital.data?.settings;
  useEffect(() => {
    if (!settings) return;
    setLevels(Object.fromEntries(PRIORITIES.map((p) => [p, settings.escalation[p].levelTimeoutsSeconds.map(String)])) as Levels);
    setTwoFactor(settings.requireTwoFactorFor);
    setSessionHours(String(settings.sessionHours));
  }, [settings]);

  if (!settings || !levels) return <p>Loading…</p>;

  const setLevel = (p: (typeof PRIORITIES)[number], i: number, v: string) => setLevels({ ...levels, [p]: levels[p].map((x, j) => (j === i ? v : x)) });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const escalation = Object.fromEntries(PRIORITIES.map((p) => [p, { ...settings.escalation[p], levelTimeoutsSeconds: levels[p].map(Number) }]));
    const next = { ...settings, escalation, requireTwoFactorFor: twoFactor, sessionHours: Number(sessionHours) };
    const v = validate(hospitalSettingsSchema, next);
    if (v.errors) return setError(`Check the values: ${Object.values(v.errors)[0]}`);
    setError(null);
    save.mutate({ escalation: v.data.escalation, requireTwoFactorFor: v.data.requireTwoFactorFor, sessionHours: v.data.sessionHours });
  };

  return (
    <form onSubmit={submit} noValidate aria-labelledby="settings-title">
      <h1 id="settings-title">Hospital settings — {hospital.data?.name}</h1>
      <fieldset className="card">
        <legend>Escalation policy</legend>
        <p className="muted">An unacknowledged alert moves up one level after the given seconds at each level.</p>
        {PRIORITIES.map((p) => (
          <fieldset key={p} className="levels">
            <legend>{p[0]!.toUpperCase() + p.slice(1)}</legend>
            {levels[p].map((s, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a level is its position
              <Field key={i} label={`${p} level ${i} → ${i + 1} (seconds)`}>
                {(props) => <input {...props} type="number" min={1} max={86400} value={s} onChange={(e) => setLevel(p, i, e.target.value)} />}
              </Field>
            ))}
            <button type="button" onClick={() => setLevels({ ...levels, [p]: [...levels[p], '300'] })} disabled={levels[p].length >= 10}>
              Add level
            </button>
            <button type="button" onClick={() => setLevels({ ...levels, [p]: levels[p].slice(0, -1) })} disabled={levels[p].length <= 1}>
              Remove level
            </button>
          </fieldset>
        ))}
      </fieldset>
      <fieldset className="card">
        <legend>Two-factor authentication required for</legend>
        {ROLES.map((r) => (
          <label key={r} className="check">
            <input
              type="checkbox"
              checked={twoFactor.includes(r)}
              onChange={(e) => setTwoFactor(e.target.checked ? [...twoFactor, r] : twoFactor.filter((x) => x !== r))}
            />
            {roleLabel[r]}
          </label>
        ))}
      </fieldset>
      <div className="card">
        <Field label="Session length (hours)">
          {(p) => <input {...p} type="number" min={1} max={336} value={sessionHours} onChange={(e) => setSessionHours(e.target.value)} />}
        </Field>
      </div>
      <button type="submit" className="primary" disabled={save.isPending}>
        Save settings
      </button>
      {error ? <p role="alert">{error}</p> : null}
      {save.error ? <p role="alert">{errorMessage(save.error)}</p> : null}
      {save.isSuccess ? <p role="status">Settings saved</p> : null}
    </form>
  );
}
