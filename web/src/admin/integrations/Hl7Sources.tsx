import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { createHl7SourceInput, type Hl7Source } from '../../../../server/integrations/schemas.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { Field } from '../../components/Field.js';
import { errorMessage, serverFieldErrors, useTRPC } from '../../lib/api.js';
import { when } from '../../lib/format.js';
import { type FieldErrors, validate } from '../../lib/validate.js';
import { heartbeatLabel, hl7SourceState } from './labels.js';

type Row = { key: number; pointOfCare: string; departmentId: string };
let nextKey = 1;
const newRow = (): Row => ({ key: nextKey++, pointOfCare: '', departmentId: '' });
const emptyForm = () => ({ name: '', sendingFacility: '', heartbeatMinutes: '', rows: [newRow()] });
/** The server's own pattern for a point of care (createHl7SourceInput): HL7 delimiters would split it on the wire. */
const DELIMITERS = /[|^~\\&\r\n]/;

/** The rows' own checks (the record's keys are not one field each to zod): keyed rows.<i>.pointOfCare / .departmentId. */
function rowErrors(rows: Row[]): FieldErrors {
  const errors: FieldErrors = {};
  const seen = new Set<string>();
  rows.forEach((r, i) => {
    const poc = r.pointOfCare.trim();
    if (!poc) errors[`rows.${i}.pointOfCare`] = 'Required';
    else if (DELIMITERS.test(poc)) errors[`rows.${i}.pointOfCare`] = 'No HL7 delimiters (| ^ ~ \\ &)';
    else if (poc.length > 80) errors[`rows.${i}.pointOfCare`] = 'At most 80 characters';
    else if (seen.has(poc)) errors[`rows.${i}.pointOfCare`] = 'Listed twice: one department per point of care';
    seen.add(poc);
    if (!r.departmentId) errors[`rows.${i}.departmentId`] = 'Choose a department';
  });
  return errors;
}

/** A refusal the server words as a message (CONFLICT), put under the field it is about. */
function conflictField(e: unknown): FieldErrors {
  const msg = errorMessage(e);
  if (/^Sending facility/.test(msg)) return { sendingFacility: msg };
  if (/^An HL7 source named/.test(msg)) return { name: msg };
  return {};
}

/** HL7 v2 senders (monitor gateways, nurse call): MSH-4 names the source, PV1-3 the point of care → department. */
export function Hl7Sources() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const sources = useQuery(trpc.integrations.listHl7Sources.queryOptions());
  const departments = useQuery(trpc.hospitals.getDepartments.queryOptions());
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.integrations.listHl7Sources.queryKey() });
  const [values, setValues] = useState(emptyForm);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [added, setAdded] = useState<string | null>(null);
  const [deactivating, setDeactivating] = useState<Hl7Source | null>(null);
  const create = useMutation(
    trpc.integrations.createHl7Source.mutationOptions({
      onSuccess: (s) => {
        setAdded(`Added ${s.name}: messages with MSH-4 ${s.sendingFacility} now raise alerts.`);
        setValues(emptyForm());
        void refresh();
      },
      onError: (e) => setErrors({ ...serverFieldErrors(e), ...conflictField(e) }),
    }),
  );
  const deactivate = useMutation(trpc.integrations.deactivateHl7Source.mutationOptions({ onSuccess: () => refresh().then(() => setDeactivating(null)) }));

  const deptList = (departments.data ?? []).filter((d) => d.isActive);
  const deptName = (id: string) => {
    const d = departments.data?.find((x) => x.id === id);
    return d ? `${d.name} (${d.code})` : 'a department no longer listed';
  };
  const setRow = (i: number, patch: Partial<Row>) => setValues({ ...values, rows: values.rows.map((r, k) => (k === i ? { ...r, ...patch } : r)) });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setAdded(null);
    const minutes = values.heartbeatMinutes.trim();
    const found: FieldErrors = rowErrors(values.rows);
    if (!values.name.trim()) found.name = 'Give the source a name';
    if (minutes && !(/^\d+$/.test(minutes) && Number(minutes) >= 1 && Number(minutes) <= 1440)) found.heartbeatMinutes = 'Whole minutes from 1 to 1440';
    const v = validate(createHl7SourceInput, {
      name: values.name,
      sendingFacility: values.sendingFacility,
      departments: Object.fromEntries(values.rows.map((r) => [r.pointOfCare.trim(), r.departmentId])),
      heartbeatSeconds: minutes && !found.heartbeatMinutes ? Number(minutes) * 60 : undefined,
    });
    const all = { ...(v.errors ?? {}), ...found };
    // The rows' own messages say it better than the record's one.
    if (Object.keys(found).some((k) => k.startsWith('rows.'))) delete all.departments;
    if (Object.keys(all).length || !v.data) return setErrors(all);
    setErrors({});
    create.mutate(v.data);
  };
  const list = sources.data?.sources ?? [];

  return (
    <section aria-labelledby="hl7-title" className="integrations-part">
      <h2 id="hl7-title">HL7 sources</h2>
      <p className="muted">
        Monitor gateways and nurse call systems send alarms as HL7 v2 <code>ORU^R40</code> over MLLP. Clarion knows the sender by its sending facility (MSH-4) and puts each alarm in the
        department its point of care (PV1-3) is mapped to; a message from an unknown facility or an unmapped point of care is refused (AE) and raises nothing.
      </p>
      {added ? (
        <p className="notice" role="status">
          {added}
        </p>
      ) : null}
      <form className="card" onSubmit={submit} noValidate aria-label="New HL7 source">
        <div className="grid2">
          <Field label="Name" error={errors.name} hint="Which system sends, e.g. ICU monitor gateway">
            {(p) => <input {...p} value={values.name} maxLength={80} onChange={(e) => setValues({ ...values, name: e.target.value })} />}
          </Field>
          <Field label="Sending facility (MSH-4)" error={errors.sendingFacility} hint="Exactly as the sender puts it in MSH-4.1">
            {(p) => <input {...p} value={values.sendingFacility} maxLength={180} autoComplete="off" spellCheck={false} onChange={(e) => setValues({ ...values, sendingFacility: e.target.value })} />}
          </Field>
          <Field label="Heartbeat in minutes (optional)" error={errors.heartbeatMinutes ?? errors.heartbeatSeconds} hint="Silence longer than this raises a system alert">
            {(p) => <input {...p} inputMode="numeric" value={values.heartbeatMinutes} onChange={(e) => setValues({ ...values, heartbeatMinutes: e.target.value })} />}
          </Field>
        </div>
        <fieldset className="integrations-checks hl7-map" aria-invalid={Boolean(errors.departments)}>
          <legend>Points of care (PV1-3) → department</legend>
          {values.rows.map((r, i) => (
            <fieldset key={r.key} className="hl7-map-row">
              <legend className="sr-only">Point of care {i + 1}</legend>
              <Field label="Point of care" error={errors[`rows.${i}.pointOfCare`]}>
                {(p) => <input {...p} value={r.pointOfCare} maxLength={80} autoComplete="off" spellCheck={false} placeholder="e.g. ICU" onChange={(e) => setRow(i, { pointOfCare: e.target.value })} />}
              </Field>
              <span className="hl7-arrow" aria-hidden="true">
                →
              </span>
              <Field label="Department" error={errors[`rows.${i}.departmentId`]}>
                {(p) => (
                  <select {...p} value={r.departmentId} onChange={(e) => setRow(i, { departmentId: e.target.value })}>
                    <option value="">Choose…</option>
                    {deptList.map((d) => (
                      <option key={d.id} value={d.id}>
                        {d.name} ({d.code})
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              {values.rows.length > 1 ? (
                <button type="button" onClick={() => setValues({ ...values, rows: values.rows.filter((_, k) => k !== i) })} aria-label={`Remove point of care ${i + 1}`}>
                  Remove
                </button>
              ) : null}
            </fieldset>
          ))}
          {errors.departments ? (
            <p className="field-message" role="alert">
              {errors.departments}
            </p>
          ) : null}
          <button type="button" onClick={() => setValues({ ...values, rows: [...values.rows, newRow()] })} disabled={values.rows.length >= 200}>
            Add point of care
          </button>
        </fieldset>
        <button type="submit" className="primary" disabled={create.isPending}>
          Add source
        </button>
        {create.error && !Object.keys(errors).length ? <p role="alert">{errorMessage(create.error)}</p> : null}
      </form>
      {sources.isPending ? (
        <p className="empty" role="status">
          Loading HL7 sources…
        </p>
      ) : null}
      {sources.isError ? <p role="alert">{errorMessage(sources.error)}</p> : null}
      {sources.data && list.length === 0 ? <p className="empty">No HL7 sources yet: add one above for each monitor gateway or nurse call system.</p> : null}
      {list.length ? (
        <div className="table-scroll">
          <table className="data stack-table">
            <caption className="sr-only">HL7 sources</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Sending facility</th>
                <th scope="col">Points of care</th>
                <th scope="col">Heartbeat</th>
                <th scope="col">Last message</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((s) => (
                <tr key={s.id} className={s.isActive ? undefined : 'integrations-off'}>
                  <td data-label="Name">
                    <strong>{s.name}</strong>
                  </td>
                  <td data-label="Sending facility">
                    <code>{s.sendingFacility}</code>
                  </td>
                  <td data-label="Points of care">
                    <ul className="hl7-map-list">
                      {Object.entries(s.departments).map(([poc, id]) => (
                        <li key={poc}>
                          <code>{poc}</code> → {deptName(id)}
                        </li>
                      ))}
                    </ul>
                  </td>
                  <td data-label="Heartbeat">{heartbeatLabel(s.heartbeatSeconds)}</td>
                  <td data-label="Last message">{s.lastMessageAt ? when(s.lastMessageAt) : 'Never'}</td>
                  <td data-label="State">{hl7SourceState(s.isActive)}</td>
                  <td>
                    <div className="row-actions">
                      {s.isActive ? (
                        <button type="button" className="danger" onClick={() => setDeactivating(s)} aria-label={`Deactivate ${s.name}`}>
                          Deactivate
                        </button>
                      ) : null}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {deactivating ? (
        <ConfirmDialog
          title={`Deactivate ${deactivating.name}?`}
          confirmLabel="Deactivate source"
          busy={deactivate.isPending}
          error={deactivate.isError ? errorMessage(deactivate.error) : null}
          onConfirm={() => deactivate.mutate({ sourceId: deactivating.id })}
          onClose={() => setDeactivating(null)}
        >
          <p>
            From now on every message from <code>{deactivating.sendingFacility}</code> is refused (AE) and raises no alert; the alerts it raised stay. It cannot be switched on again here, and
            the sending facility stays with this source.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
