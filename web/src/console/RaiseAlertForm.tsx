import { useQuery } from '@tanstack/react-query';
import { type FormEvent, useRef, useState } from 'react';
import { createAlertInput } from '../../../server/alerts/schemas.js';
import { Field } from '../components/Field.js';
import { client, errorMessage, serverFieldErrors, useTRPC } from '../lib/api.js';
import { blankToUndefined, type FieldErrors, validate } from '../lib/validate.js';

const ALERT_TYPES = ['medical', 'fall', 'equipment', 'fire', 'security', 'infection', 'other'];
const EMPTY = { departmentId: '', roomNumber: '', alertType: 'medical', priority: 'high', title: '', description: '', expiresAt: '' };

/** Raise an alert: validated by the server's own zod schema before it is sent, with field messages. */
export function RaiseAlertForm() {
  const trpc = useTRPC();
  const departments = useQuery(trpc.hospitals.getDepartments.queryOptions());
  const [values, setValues] = useState(EMPTY);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const titleRef = useRef<HTMLInputElement>(null);
  const set = (k: keyof typeof EMPTY) => (e: { target: { value: string } }) => setValues({ ...values, [k]: e.target.value });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setStatus(null);
    const expiresAt = values.expiresAt ? new Date(values.expiresAt).toISOString() : undefined;
    const v = validate(createAlertInput, { ...blankToUndefined(values), expiresAt });
    if (v.errors) {
      setErrors(v.errors);
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      const alert = await client.alerts.create.mutate(v.data);
      setStatus({ ok: true, text: `Raised: ${alert.title}${alert.roomNumber ? `, room ${alert.roomNumber}` : ''} (${alert.departmentName})` });
      setValues({ ...EMPTY, departmentId: values.departmentId });
      titleRef.current?.focus();
    } catch (err) {
      const fe = serverFieldErrors(err);
      setErrors(fe);
      setStatus({ ok: false, text: Object.keys(fe).length ? 'Please check the highlighted fields' : errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card raise-form" onSubmit={submit} noValidate aria-labelledby="raise-title">
      <h2 id="raise-title" className="card-title">Raise an alert</h2>
      <div className="grid2">
        <Field label="Department" error={errors.departmentId}>
          {(p) => (
            <select {...p} value={values.departmentId} onChange={set('departmentId')}>
              <option value="">Choose…</option>
              {(departments.data ?? [])
                .filter((d) => d.isActive)
                .map((d) => (
                  <option key={d.id} value={d.id}>
                    {d.name} ({d.code})
                  </option>
                ))}
            </select>
          )}
        </Field>
        <Field label="Room" error={errors.roomNumber}>
          {(p) => <input {...p} value={values.roomNumber} onChange={set('roomNumber')} />}
        </Field>
        <Field label="Type" error={errors.alertType}>
          {(p) => (
            <select {...p} value={values.alertType} onChange={set('alertType')}>
              {ALERT_TYPES.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Priority" error={errors.priority}>
          {(p) => (
            <select {...p} value={values.priority} onChange={set('priority')}>
              <option value="critical">Critical</option>
              <option value="high">High</option>
              <option value="medium">Medium</option>
              <option value="low">Low</option>
            </select>
          )}
        </Field>
      </div>
      <Field label="Title" error={errors.title}>
        {(p) => <input {...p} ref={titleRef} value={values.title} onChange={set('title')} />}
      </Field>
      <Field label="Description" error={errors.description}>
        {(p) => <textarea {...p} rows={3} value={values.description} onChange={set('description')} />}
      </Field>
      <Field label="Expires at (optional)" error={errors.expiresAt}>
        {(p) => <input {...p} type="datetime-local" value={values.expiresAt} onChange={set('expiresAt')} />}
      </Field>
      <button type="submit" className="primary big" disabled={busy}>
        Raise alert
      </button>
      {status ? (
        <p role="status" className={status.ok ? 'ok' : 'error'}>
          {status.text}
        </p>
      ) : null}
    </form>
  );
}
