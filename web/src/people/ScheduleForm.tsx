import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { createScheduleInput, type Schedule } from '../../../server/schedules/schemas.js';
import { Field } from '../components/Field.js';
import { errorMessage, serverFieldErrors, useTRPC } from '../lib/api.js';
import { type FieldErrors, issuesToFields } from '../lib/validate.js';
import { fromLocalInput, toLocalInput } from './zoned.js';

interface Props {
  /** Absent: a new schedule. */
  schedule?: Schedule;
  hospitalZone: string;
  people: { id: string; label: string }[];
  onDone: (id: string | null) => void;
}

interface Draft {
  name: string;
  timezone: string;
  participants: string[];
  startsAt: string;
  shiftHours: string;
}

function toDraft(s: Schedule | undefined, zone: string): Draft {
  if (!s) return { name: '', timezone: '', participants: [], startsAt: `${toLocalInput(Date.now(), zone).slice(0, 10)}T07:00`, shiftHours: '24' };
  return { name: s.name, timezone: s.timezone ?? '', participants: s.rotation.participants.map((p) => p.userId), startsAt: toLocalInput(s.rotation.startsAt, s.effectiveTimezone), shiftHours: String(s.rotation.shiftHours) };
}

/** Create or edit a rotation: who takes turns, in order, from when, for how long each. */
export function ScheduleForm({ schedule, hospitalZone, people, onDone }: Props) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [draft, setDraft] = useState(() => toDraft(schedule, schedule?.effectiveTimezone ?? hospitalZone));
  const [touched, setTouched] = useState(false);
  const [serverErrors, setServerErrors] = useState<FieldErrors>({});
  const [adding, setAdding] = useState('');
  const options = {
    onSuccess: (r: { id: string }) => {
      void qc.invalidateQueries({ queryKey: trpc.schedules.pathKey() });
      onDone(r.id);
    },
    onError: (err: unknown) => setServerErrors(serverFieldErrors(err)),
  };
  const create = useMutation(trpc.schedules.create.mutationOptions(options));
  const update = useMutation(trpc.schedules.update.mutationOptions(options));
  const zone = draft.timezone.trim() || hospitalZone;
  const input = {
    name: draft.name.trim(),
    ...(draft.timezone.trim() ? { timezone: draft.timezone.trim() } : {}),
    rotation: { participants: draft.participants, startsAt: fromLocalInput(draft.startsAt, zone) ?? '', shiftHours: draft.shiftHours.trim() === '' ? Number.NaN : Number(draft.shiftHours) },
  };
  const parsed = createScheduleInput.safeParse(input);
  const errors: FieldErrors = touched && !parsed.success ? { ...issuesToFields(parsed.error.issues, 2), ...serverErrors } : serverErrors;
  const set = (patch: Partial<Draft>) => {
    setServerErrors({});
    setDraft({ ...draft, ...patch });
  };
  const nameOf = (id: string) => people.find((p) => p.id === id)?.label ?? schedule?.rotation.participants.find((p) => p.userId === id)?.name ?? 'Unknown person';
  const move = (i: number, by: number) => {
    const next = [...draft.participants];
    const [x] = next.splice(i, 1);
    next.splice(i + by, 0, x as string);
    set({ participants: next });
  };
  const pending = create.isPending || update.isPending;
  const failed = create.error ?? update.error;

  return (
    <form
      className="card oncall-schedule-form"
      aria-label={schedule ? `Edit ${schedule.name}` : 'New schedule'}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        setTouched(true);
        if (!parsed.success) return;
        if (schedule) update.mutate({ scheduleId: schedule.id, ...parsed.data, timezone: parsed.data.timezone ?? null });
        else create.mutate(parsed.data);
      }}
    >
      <h2 className="card-title">{schedule ? `Edit ${schedule.name}` : 'New on-call schedule'}</h2>
      <Field label="Name" error={errors.name}>
        {(p) => <input {...p} value={draft.name} maxLength={100} onChange={(e) => set({ name: e.target.value })} />}
      </Field>
      <Field label="Time zone" hint={`Blank: the hospital's (${hospitalZone}).`} error={errors.timezone}>
        {(p) => <input {...p} list="timezones" value={draft.timezone} maxLength={64} onChange={(e) => set({ timezone: e.target.value })} />}
      </Field>
      <fieldset className="oncall-participants">
        <legend>Participants, in turn</legend>
        {errors['rotation.participants'] ? (
          <p className="field-message" role="alert">
            {errors['rotation.participants']}
          </p>
        ) : null}
        <ol>
          {draft.participants.map((id, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: a person may take several turns; a turn is its position
            <li key={`${id}-${i}`}>
              <span>{nameOf(id)}</span>
              <button type="button" onClick={() => move(i, -1)} disabled={i === 0} aria-label={`Move ${nameOf(id)} earlier`}>
                ↑
              </button>
              <button type="button" onClick={() => move(i, 1)} disabled={i === draft.participants.length - 1} aria-label={`Move ${nameOf(id)} later`}>
                ↓
              </button>
              <button type="button" onClick={() => set({ participants: draft.participants.filter((_, j) => j !== i) })} aria-label={`Remove ${nameOf(id)}`}>
                Remove
              </button>
            </li>
          ))}
        </ol>
        <div className="oncall-add">
          <Field label="Add a participant">
            {(p) => (
              <select {...p} value={adding} onChange={(e) => setAdding(e.target.value)}>
                <option value="">Choose…</option>
                {people.map((u) => (
                  <option key={u.id} value={u.id}>
                    {u.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <button type="button" disabled={!adding} onClick={() => {
              set({ participants: [...draft.participants, adding] });
              setAdding('');
            }}>
            Add
          </button>
        </div>
      </fieldset>
      <div className="oncall-window">
        <Field label="First shift starts" hint={`${zone} time; also the daily handover time.`} error={errors['rotation.startsAt']}>
          {(p) => <input {...p} type="datetime-local" value={draft.startsAt} onChange={(e) => set({ startsAt: e.target.value })} />}
        </Field>
        <Field label="Shift length (hours)" hint="24 or 168: the same wall-clock handover across daylight saving." error={errors['rotation.shiftHours']}>
          {(p) => <input {...p} type="number" min={1} max={336} value={draft.shiftHours} onChange={(e) => set({ shiftHours: e.target.value })} />}
        </Field>
      </div>
      {failed && !Object.keys(serverErrors).length ? <p role="alert">{errorMessage(failed)}</p> : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={pending}>
          {schedule ? 'Save schedule' : 'Create schedule'}
        </button>
        <button type="button" onClick={() => onDone(null)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
