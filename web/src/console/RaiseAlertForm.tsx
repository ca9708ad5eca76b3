import { useQuery } from '@tanstack/react-query';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { type CreateAlertInput, createAlertInput } from '../../../server/alerts/schemas.js';
import { Field } from '../components/Field.js';
import { client, errorMessage, serverFieldErrors, useTRPC } from '../lib/api.js';
import { typeLabel } from '../lib/format.js';
import { blankToUndefined, type FieldErrors, validate } from '../lib/validate.js';
import { DepartmentOptions } from '../components/DepartmentOptions.js';

const ALERT_TYPES = ['medical', 'fall', 'equipment', 'fire', 'security', 'infection', 'other'];
const EMPTY = { departmentId: '', roomNumber: '', alertType: 'medical', priority: 'high', title: '', description: '', expiresAt: '' };

const screensHint = (n: number | null) => (n === null ? undefined : n === 0 ? 'No screens online there' : `${n} ${n === 1 ? 'screen' : 'screens'} online`);

type Status = { kind: 'ok' | 'error' | 'notice'; text: string };
type Created = Awaited<ReturnType<typeof client.alerts.create.mutate>>;

const describeAlert = (a: Created) => `${a.title}${a.roomNumber ? `, room ${a.roomNumber}` : ''} (${a.departmentName})`;

/**
 * The raise folded into the same open emergency: say so, and what it changed — its priority raised,
 * or the screens of an acknowledged alert alerted again — so the operator never wonders where it went.
 */
function repeatNotice(a: Created): string {
  const raised = a.priorityRaisedFrom ? ` — raised to ${a.priority.toUpperCase()} (was ${a.priorityRaisedFrom})` : '';
  const taken = a.status === 'acknowledged' ? ` It is acknowledged${a.acknowledgedByName ? ` by ${a.acknowledgedByName}` : ''}; its screens were alerted again.` : '';
  return `Already active — added as repeat #${a.repeatCount} to the open alert: ${describeAlert(a)}${raised}.${taken}`;
}

/**
 * Raise an alert: validated by the server's own zod schema before it is sent, with field messages.
 * Raising to a department with no board online asks first ("Raise anyway"): nobody may see it.
 */
export function RaiseAlertForm({ screensOf, checkScreens }: { screensOf: (departmentId: string) => number | null; checkScreens: (departmentId: string) => Promise<number | null> }) {
  const trpc = useTRPC();
  const departments = useQuery(trpc.hospitals.getDepartments.queryOptions());
  const [values, setValues] = useState(EMPTY);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [status, setStatus] = useState<Status | null>(null);
  const [busy, setBusy] = useState(false);
  const [noScreens, setNoScreens] = useState<{ data: CreateAlertInput; departmentName: string } | null>(null);
  const titleRef = useRef<HTMLInputElement>(null);
  const deptRef = useRef<HTMLSelectElement>(null);
  const warningRef = useRef<HTMLDivElement>(null);
  const set = (k: keyof typeof EMPTY) => (e: { target: { value: string } }) => {
    setValues({ ...values, [k]: e.target.value });
    setNoScreens(null);
  };
  // The warning takes focus, so a keyboard user hears it and is one Tab from "Raise anyway".
  useEffect(() => {
    if (noScreens) warningRef.current?.focus();
  }, [noScreens]);

  const send = async (data: CreateAlertInput) => {
    setNoScreens(null);
    setBusy(true);
    try {
      const alert = await client.alerts.create.mutate(data);
      setStatus(alert.deduplicated ? { kind: 'notice', text: repeatNotice(alert) } : { kind: 'ok', text: `Raised: ${describeAlert(alert)}` });
      setValues({ ...EMPTY, departmentId: values.departmentId });
      titleRef.current?.focus();
    } catch (err) {
      const fe = serverFieldErrors(err);
      setErrors(fe);
      setStatus({ kind: 'error', text: Object.keys(fe).length ? 'Please check the highlighted fields' : errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };

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
    // Asked afresh at the moment of raising: the poll may be a few seconds old.
    if ((await checkScreens(v.data.departmentId)) === 0) {
      const dept = departments.data?.find((d) => d.id === v.data.departmentId);
      setNoScreens({ data: v.data, departmentName: dept?.name ?? 'this department' });
      return;
    }
    await send(v.data);
  };

  return (
    <form className="card raise-form" onSubmit={submit} noValidate aria-labelledby="raise-title">
      <h2 id="raise-title" className="card-title">Raise an alert</h2>
      <div className="grid2">
        <Field label="Department" error={errors.departmentId} hint={screensHint(values.departmentId ? screensOf(values.departmentId) : null)}>
          {(p) => (
            <select {...p} ref={deptRef} value={values.departmentId} onChange={set('departmentId')}>
              <DepartmentOptions departments={departments.data} />
            </select>
          )}
        </Field>
        <Field label="Room" error={errors.roomNumber}>
          {(p) => <input {...p} value={values.roomNumber} onChange={set('roomNumber')} maxLength={40} />}
        </Field>
        <Field label="Type" error={errors.alertType}>
          {(p) => (
            <select {...p} value={values.alertType} onChange={set('alertType')}>
              {ALERT_TYPES.map((t) => (
                <option key={t} value={t}>
                  {typeLabel(t)}
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
        {(p) => <input {...p} ref={titleRef} value={values.title} onChange={set('title')} maxLength={200} />}
      </Field>
      <Field label="Description" error={errors.description}>
        {(p) => <textarea {...p} rows={3} value={values.description} onChange={set('description')} maxLength={2000} />}
      </Field>
      <Field label="Expires at (optional)" error={errors.expiresAt}>
        {(p) => <input {...p} type="datetime-local" value={values.expiresAt} onChange={set('expiresAt')} />}
      </Field>
      {noScreens ? (
        <div className="no-screen-warning" role="alert" tabIndex={-1} ref={warningRef} aria-labelledby="no-screen-title">
          <h3 id="no-screen-title">No screen is online in {noScreens.departmentName}</h3>
          <p>No board there is showing alerts right now, so nobody may see this one. Phone the ward as well, or choose another department.</p>
          <div className="actions">
            <button type="button" className="danger-solid" onClick={() => void send(noScreens.data)} disabled={busy}>
              Raise anyway
            </button>
            <button
              type="button"
              onClick={() => {
                setNoScreens(null);
                deptRef.current?.focus();
              }}
            >
              Change department
            </button>
          </div>
        </div>
      ) : (
        <button type="submit" className="primary big" disabled={busy}>
          Raise alert
        </button>
      )}
      {status ? (
        <p role="status" className={status.kind === 'ok' ? 'ok' : status.kind === 'notice' ? 'notice' : 'error'}>
          {status.text}
        </p>
      ) : null}
    </form>
  );
}
