import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { shelveInput } from '../../../server/alerts/schemas.js';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { Field } from '../components/Field.js';
import { client, errorCode, errorMessage, serverFieldErrors, useTRPC } from '../lib/api.js';
import type { Alert } from '../lib/alertStore.js';
import type { FieldErrors } from '../lib/validate.js';

/** The lengths offered, one tap each; only those within the hospital's cap for the alert's priority. */
const PRESETS = [5, 10, 15, 30, 60, 120, 240, 480];
const DEFAULT_CAPS = { low: 480, medium: 240, high: 60, critical: 15 } as const;

export const minutesLabel = (m: number) => (m < 60 ? `${m} min` : m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m / 60} h`);

/**
 * "Not now" (ISA-18.2 shelving): how long (a preset within the cap for its priority) and why (the next
 * shift reads it). Checked with the server's own schema first; what the server still refuses (a cap
 * lowered meanwhile, a code) is shown on its field or under the dialog.
 */
export function useShelve() {
  const trpc = useTRPC();
  const [alert, setAlert] = useState<Alert | null>(null);
  const [minutes, setMinutes] = useState<number | null>(null);
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const hospital = useQuery({ ...trpc.hospitals.getCurrent.queryOptions(), enabled: alert !== null, staleTime: 60_000 });
  const cap = alert ? (hospital.data?.settings.maxShelveMinutes ?? DEFAULT_CAPS)[alert.priority] : 0;
  const presets = [...new Set([...PRESETS.filter((m) => m <= cap), cap])].sort((a, b) => a - b);

  const close = () => {
    setAlert(null);
    setMinutes(null);
    setReason('');
    setErrors({});
    setError(null);
  };

  const run = async () => {
    if (!alert) return;
    setError(null);
    if (minutes === null) {
      setErrors({ minutes: 'Choose how long' });
      return;
    }
    const parsed = shelveInput.safeParse({ alertId: alert.id, minutes, reason });
    if (!parsed.success) {
      setErrors(Object.fromEntries(parsed.error.issues.map((i) => [String(i.path[0]), i.message])));
      return;
    }
    setBusy(true);
    try {
      await client.alerts.shelve.mutate(parsed.data);
      close();
    } catch (err) {
      const fe = serverFieldErrors(err);
      setErrors(fe);
      if (!Object.keys(fe).length) setError(errorCode(err) === 'CONFLICT' ? errorMessage(err) || 'Someone else has already changed this alert.' : errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const dialog = alert ? (
    <ConfirmDialog
      title={`Shelve “${alert.title}”${alert.roomNumber ? ` in room ${alert.roomNumber}` : ''}?`}
      confirmLabel="Shelve"
      busy={busy}
      error={error}
      onConfirm={() => void run()}
      onClose={close}
    >
      <p>No sound and no escalation until the time is up; then it comes back to the board and calls again.</p>
      <fieldset className="decline-reasons shelve-minutes">
        <legend>For how long? (at most {minutesLabel(cap)} for a {alert.priority} alert)</legend>
        {presets.map((m) => (
          <button
            key={m}
            type="button"
            aria-pressed={minutes === m}
            onClick={() => {
              setMinutes(m);
              setErrors({ ...errors, minutes: '' });
            }}
          >
            {minutesLabel(m)}
          </button>
        ))}
      </fieldset>
      {errors.minutes ? (
        <p role="alert" className="field-message">
          {errors.minutes}
        </p>
      ) : null}
      <Field label="Reason" error={errors.reason || undefined} hint="The next shift reads it, e.g. “Patient repositioning, leads off”">
        {(p) => (
          <input
            {...p}
            value={reason}
            maxLength={500}
            onChange={(e) => {
              setReason(e.target.value);
              setErrors({ ...errors, reason: '' });
            }}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                void run();
              }
            }}
          />
        )}
      </Field>
    </ConfirmDialog>
  ) : null;

  return { ask: (a: Alert) => setAlert(a), dialog };
}

/** Back from the shelf now (no dialog: it only makes the alert louder). */
export async function unshelve(alertId: string): Promise<string | null> {
  try {
    await client.alerts.unshelve.mutate({ alertId });
    return null;
  } catch (err) {
    return errorMessage(err);
  }
}
