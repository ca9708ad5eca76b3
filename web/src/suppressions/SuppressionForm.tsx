import { useQuery } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { createSuppressionInput } from '../../../server/suppressions/schemas.js';
import { Field } from '../components/Field.js';
import { client, errorMessage, serverFieldErrors, useTRPC } from '../lib/api.js';
import type { FieldErrors } from '../lib/validate.js';
import { validate } from '../lib/validate.js';
import { DepartmentOptions } from '../components/DepartmentOptions.js';

const EMPTY = { departmentId: '', rooms: '', alertTypes: '', from: '', to: '', reason: '' };

/** "301, 302" → ['301', '302']; blank → undefined (the whole department, every type). */
const list = (v: string) => {
  const items = v
    .split(/[,;\n]/)
    .map((x) => x.trim())
    .filter(Boolean);
  return items.length ? items : undefined;
};
/** A datetime-local value as an instant; blank "from" is now. */
const instant = (v: string, blankIsNow: boolean) => (v ? new Date(v).toISOString() : blankIsNow ? new Date().toISOString() : '');

/** Nested server keys ("rooms.2") sit on their field. */
const byField = (errors: FieldErrors): FieldErrors => {
  const out: FieldErrors = {};
  for (const [k, v] of Object.entries(errors)) out[k.split('.')[0] as string] ??= v;
  return out;
};

/**
 * A new suppression window: a department, optionally some rooms and alert types, from (blank: now) to,
 * and why — the board shows the reason next to what it keeps quiet. Checked with the server's schema.
 */
export function SuppressionForm({ defaultDepartment, onCreated }: { defaultDepartment: string | null; onCreated: () => void }) {
  const trpc = useTRPC();
  const departments = useQuery(trpc.hospitals.getDepartments.queryOptions());
  const [values, setValues] = useState({ ...EMPTY, departmentId: defaultDepartment ?? '' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof EMPTY) => (e: { target: { value: string } }) => {
    setValues({ ...values, [k]: e.target.value });
    setErrors({ ...errors, [k]: '' });
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setStatus(null);
    const input = {
      departmentId: values.departmentId || undefined,
      rooms: list(values.rooms),
      alertTypes: list(values.alertTypes),
      from: instant(values.from, true),
      to: values.to ? instant(values.to, false) : undefined,
      reason: values.reason,
    };
    const v = validate(createSuppressionInput, input);
    if (v.errors) {
      setErrors(byField(v.errors));
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      const s = await client.suppressions.create.mutate(v.data);
      setStatus({ ok: true, text: `Window set: ${s.reason} (${s.departmentName}), ${s.state}` });
      setValues({ ...EMPTY, departmentId: values.departmentId });
      onCreated();
    } catch (err) {
      const fe = byField(serverFieldErrors(err));
      setErrors(fe);
      setStatus({ ok: false, text: Object.keys(fe).length ? 'Please check the highlighted fields' : errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card suppression-form" onSubmit={(e) => void submit(e)} noValidate aria-labelledby="suppression-form-title">
      <h2 id="suppression-form-title" className="card-title">
        New suppression window
      </h2>
      <p className="muted">Raises that match are kept (listed apart on the board) but page nobody and make no sound. A hospital code is never kept quiet.</p>
      <div className="grid2">
        <Field label="Department" error={errors.departmentId || undefined}>
          {(p) => (
            <select {...p} value={values.departmentId} onChange={set('departmentId')}>
              <DepartmentOptions departments={departments.data} />
            </select>
          )}
        </Field>
        <Field label="Rooms (optional)" hint="Comma-separated, e.g. 301, 302; blank for the whole department" error={errors.rooms || undefined}>
          {(p) => <input {...p} value={values.rooms} onChange={set('rooms')} maxLength={600} />}
        </Field>
        <Field label="Alert types (optional)" hint="Comma-separated, e.g. fire, equipment; blank for every type" error={errors.alertTypes || undefined}>
          {(p) => <input {...p} value={values.alertTypes} onChange={set('alertTypes')} maxLength={400} />}
        </Field>
        <Field label="Starts" hint="Blank: now" error={errors.from || undefined}>
          {(p) => <input {...p} type="datetime-local" value={values.from} onChange={set('from')} />}
        </Field>
        <Field label="Ends" error={errors.to || undefined}>
          {(p) => <input {...p} type="datetime-local" value={values.to} onChange={set('to')} />}
        </Field>
      </div>
      <Field label="Reason" hint="The board shows it, e.g. “Fire drill”, “Bed 4 out of service”" error={errors.reason || undefined}>
        {(p) => <input {...p} value={values.reason} onChange={set('reason')} maxLength={500} />}
      </Field>
      <button type="submit" className="primary" disabled={busy}>
        Set window
      </button>
      {status ? (
        <p role={status.ok ? 'status' : 'alert'} className={status.ok ? 'ok' : 'error'}>
          {status.text}
        </p>
      ) : null}
    </form>
  );
}
