import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { addOverrideInput } from '../../../server/schedules/schemas.js';
import { Field } from '../components/Field.js';
import { errorMessage, serverFieldErrors, useTRPC } from '../lib/api.js';
import { type FieldErrors, issuesToFields } from '../lib/validate.js';
import { fromLocalInput } from './zoned.js';

export interface OverrideDraft {
  userId: string;
  from: string;
  to: string;
  reason: string;
}

interface Props {
  scheduleId: string;
  zone: string;
  draft: OverrideDraft;
  onChange: (d: OverrideDraft) => void;
  /** Who may cover: everyone for a manager; just the caller otherwise (the server checks the same). */
  people: { id: string; label: string }[];
  onSaved: () => void;
}

/**
 * An override: someone covers [from, to) — a swap, sick cover, a doctor taking a colleague's night.
 * Times are wall-clock in the schedule's zone. The latest override wins where two overlap.
 */
export function OverrideForm({ scheduleId, zone, draft, onChange, people, onSaved }: Props) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [touched, setTouched] = useState(false);
  const [serverErrors, setServerErrors] = useState<FieldErrors>({});
  const add = useMutation(
    trpc.schedules.addOverride.mutationOptions({
      onSuccess: () => {
        setTouched(false);
        void qc.invalidateQueries({ queryKey: trpc.schedules.pathKey() });
        onSaved();
      },
      onError: (err) => setServerErrors(serverFieldErrors(err)),
    }),
  );
  const input = {
    scheduleId,
    userId: draft.userId,
    from: fromLocalInput(draft.from, zone) ?? '',
    to: fromLocalInput(draft.to, zone) ?? '',
    ...(draft.reason.trim() ? { reason: draft.reason.trim() } : {}),
  };
  const parsed = addOverrideInput.safeParse(input);
  const errors: FieldErrors = touched && !parsed.success ? { ...issuesToFields(parsed.error.issues), ...serverErrors } : serverErrors;
  const set = (patch: Partial<OverrideDraft>) => {
    setServerErrors({});
    onChange({ ...draft, ...patch });
  };

  return (
    <form
      className="card oncall-override"
      aria-label="Cover a shift"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        setTouched(true);
        if (parsed.success) add.mutate(parsed.data);
      }}
    >
      <h2 className="card-title">Cover a shift (override)</h2>
      <p className="muted">Drag across a day above, pick a shift, or type the window. Times are {zone} time.</p>
      {people.length > 1 ? (
        <Field label="Who covers" error={errors.userId}>
          {(p) => (
            <select {...p} value={draft.userId} onChange={(e) => set({ userId: e.target.value })}>
              {people.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.label}
                </option>
              ))}
            </select>
          )}
        </Field>
      ) : (
        <p>
          Covering: <strong>{people[0]?.label ?? 'you'}</strong>
        </p>
      )}
      <div className="oncall-window">
        <Field label="From" error={errors.from}>
          {(p) => <input {...p} type="datetime-local" value={draft.from} onChange={(e) => set({ from: e.target.value })} />}
        </Field>
        <Field label="To" error={errors.to}>
          {(p) => <input {...p} type="datetime-local" value={draft.to} onChange={(e) => set({ to: e.target.value })} />}
        </Field>
      </div>
      <Field label="Reason (optional)" error={errors.reason}>
        {(p) => <input {...p} value={draft.reason} maxLength={500} placeholder="Swap with Dr Ivan, sick cover…" onChange={(e) => set({ reason: e.target.value })} />}
      </Field>
      {add.isError && !Object.keys(serverErrors).length ? <p role="alert">{errorMessage(add.error)}</p> : null}
      {add.isSuccess && !touched ? <p role="status">Override saved</p> : null}
      <button type="submit" className="primary" disabled={add.isPending}>
        Save override
      </button>
    </form>
  );
}
