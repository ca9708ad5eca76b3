import { useQuery } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { type RaiseCodeInput, raiseCodeInput } from '../../../server/alerts/schemas.js';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { Field } from '../components/Field.js';
import { client, errorMessage, serverFieldErrors, useTRPC } from '../lib/api.js';
import { codeLabel } from '../lib/format.js';
import { blankToUndefined, type FieldErrors, validate } from '../lib/validate.js';
import { DepartmentOptions } from '../components/DepartmentOptions.js';

const CODES = ['blue', 'rapid_response', 'fire', 'lockdown', 'missing_person'] as const;
const EMPTY = { code: 'blue', departmentId: '', roomNumber: '' };

/**
 * Call a hospital code: which code, where (department, room), then a confirm step — a code pages the
 * code team at once and sounds on every board of the hospital, muted or not, so a slip must not call one.
 */
/** `departmentId`: where the caller works, chosen to begin with (a nurse calls a code on her own ward). */
export function CallCodeForm({ departmentId = '' }: { departmentId?: string | null } = {}) {
  const trpc = useTRPC();
  const departments = useQuery(trpc.hospitals.getDepartments.queryOptions());
  const [values, setValues] = useState({ ...EMPTY, departmentId: departmentId ?? '' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [confirm, setConfirm] = useState<RaiseCodeInput | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const set = (k: keyof typeof EMPTY) => (e: { target: { value: string } }) => setValues({ ...values, [k]: e.target.value });
  const deptName = (id: string) => departments.data?.find((d) => d.id === id)?.name ?? 'the department';

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setStatus(null);
    const v = validate(raiseCodeInput, blankToUndefined(values));
    if (v.errors) {
      setErrors(v.errors);
      return;
    }
    setErrors({});
    setConfirm(v.data);
  };

  const call = async () => {
    if (!confirm) return;
    setBusy(true);
    setError(null);
    try {
      const a = await client.alerts.raiseCode.mutate(confirm);
      setStatus(`Called: ${codeLabel[confirm.code]} — ${a.departmentName}${a.roomNumber ? ` room ${a.roomNumber}` : ''}`);
      setConfirm(null);
      setValues({ ...EMPTY, departmentId: values.departmentId });
    } catch (err) {
      const fe = serverFieldErrors(err);
      if (Object.keys(fe).length) {
        setErrors(fe);
        setConfirm(null);
      } else setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const where = confirm ? `${deptName(confirm.departmentId)}${confirm.roomNumber ? `, room ${confirm.roomNumber}` : ''}` : '';
  return (
    <form className="card call-code" onSubmit={submit} noValidate aria-labelledby="call-code-title">
      <h2 id="call-code-title" className="card-title">
        Call a code
      </h2>
      <div className="grid2">
        <Field label="Which code" error={errors.code}>
          {(p) => (
            <select {...p} value={values.code} onChange={set('code')}>
              {CODES.map((c) => (
                <option key={c} value={c}>
                  {codeLabel[c]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Ward" error={errors.departmentId}>
          {(p) => (
            <select {...p} value={values.departmentId} onChange={set('departmentId')}>
              <DepartmentOptions departments={departments.data} />
            </select>
          )}
        </Field>
        <Field label="Bed or place (optional)" error={errors.roomNumber}>
          {(p) => <input {...p} value={values.roomNumber} onChange={set('roomNumber')} maxLength={40} />}
        </Field>
      </div>
      <button type="submit" className="danger-solid big">
        Call code…
      </button>
      {status ? (
        <p role="status" className="ok">
          {status}
        </p>
      ) : null}
      {confirm ? (
        <ConfirmDialog
          title={`Call ${codeLabel[confirm.code]} in ${where}?`}
          confirmLabel={`Yes, call ${codeLabel[confirm.code]}`}
          busy={busy}
          error={error}
          onConfirm={() => void call()}
          onClose={() => {
            setConfirm(null);
            setError(null);
          }}
        >
          <p>The code team is paged at once, and every board in the hospital shows it and sounds, even a muted one.</p>
        </ConfirmDialog>
      ) : null}
    </form>
  );
}
