import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { updateAlertInput } from '../../../server/alerts/schemas.js';
import { Field } from '../components/Field.js';
import type { Alert } from '../lib/alertStore.js';
import { errorMessage, serverFieldErrors, useTRPC } from '../lib/api.js';
import { priorityLabel } from '../lib/format.js';
import { type FieldErrors, validate } from '../lib/validate.js';

const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;

/**
 * Correct an open alert raised with the wrong priority or room (alerts.update): only what changed
 * is sent, so a correction never overwrites someone else's edit of another field.
 */
export function CorrectAlert({ alert, onSaved }: { alert: Alert; onSaved: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [priority, setPriority] = useState<string>(alert.priority);
  const [room, setRoom] = useState(alert.roomNumber ?? '');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saved, setSaved] = useState(false);
  const update = useMutation(
    trpc.alerts.update.mutationOptions({
      onSuccess: () => {
        setSaved(true);
        void qc.invalidateQueries({ queryKey: trpc.alerts.list.queryKey() });
        onSaved();
      },
      onError: (err) => setErrors(serverFieldErrors(err)),
    }),
  );
  const changes = {
    ...(priority !== alert.priority ? { priority } : {}),
    ...(room.trim() !== (alert.roomNumber ?? '') ? { roomNumber: room.trim() || null } : {}),
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    const v = validate(updateAlertInput, { alertId: alert.id, ...changes });
    if (v.errors) return setErrors(v.errors);
    setErrors({});
    update.mutate(v.data);
  };
  return (
    <form className="correct-alert inline-form" aria-label="Correct this alert" onSubmit={submit}>
      <Field label="Priority" error={errors.priority}>
        {(p) => (
          <select {...p} value={priority} onChange={(e) => setPriority(e.target.value)}>
            {PRIORITIES.map((x) => (
              <option key={x} value={x}>
                {priorityLabel[x]}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Room" error={errors.roomNumber}>
        {(p) => <input {...p} value={room} maxLength={40} onChange={(e) => setRoom(e.target.value)} />}
      </Field>
      <button type="submit" disabled={update.isPending || !Object.keys(changes).length}>
        Save correction
      </button>
      {saved && !update.isPending ? <p role="status">Correction saved.</p> : null}
      {update.error && !Object.keys(errors).length ? <p role="alert">{errorMessage(update.error)}</p> : null}
    </form>
  );
}
