import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { createDepartmentInput, type Department } from '../../../../server/hospitals/schemas.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { Field } from '../../components/Field.js';
import { errorMessage, serverFieldErrors, useTRPC } from '../../lib/api.js';
import { type FieldErrors, validate } from '../../lib/validate.js';

/** Departments: create, rename, deactivate (history and users stay). */
export function DepartmentsPanel() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const departments = useQuery(trpc.hospitals.getDepartments.queryOptions());
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.hospitals.getDepartments.queryKey() });
  const [values, setValues] = useState({ code: '', name: '' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const create = useMutation(
    trpc.hospitals.createDepartment.mutationOptions({
      onSuccess: () => {
        setValues({ code: '', name: '' });
        void refresh();
      },
      onError: (e) => setErrors(serverFieldErrors(e)),
    }),
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const v = validate(createDepartmentInput, values);
    if (v.errors) return setErrors(v.errors);
    setErrors({});
    create.mutate(v.data);
  };

  return (
    <section aria-labelledby="dept-title">
      <h1 id="dept-title">Departments</h1>
      <form className="card inline-form" onSubmit={submit} noValidate aria-label="New department">
        <Field label="Code" error={errors.code}>
          {(p) => <input {...p} value={values.code} onChange={(e) => setValues({ ...values, code: e.target.value })} size={8} maxLength={10} />}
        </Field>
        <Field label="Name" error={errors.name}>
          {(p) => <input {...p} value={values.name} onChange={(e) => setValues({ ...values, name: e.target.value })} maxLength={100} />}
        </Field>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create department
        </button>
        {create.error && !Object.keys(errors).length ? <p role="alert">{errorMessage(create.error)}</p> : null}
      </form>
      <div className="table-scroll">
      <table className="data">
        <thead>
          <tr>
            <th scope="col">Code</th>
            <th scope="col">Name</th>
            <th scope="col">Status</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {(departments.data ?? []).map((d) => (
            <DepartmentRow key={d.id} department={d} onChanged={refresh} />
          ))}
        </tbody>
      </table>
      </div>
      {departments.isPending ? <p className="empty" role="status">Loading departments…</p> : null}
      {departments.data?.length === 0 ? <p className="empty">No departments yet: create the first one above.</p> : null}
    </section>
  );
}

function DepartmentRow({ department: d, onChanged }: { department: Department; onChanged: () => void }) {
  const trpc = useTRPC();
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(d.name);
  const [confirming, setConfirming] = useState(false);
  const update = useMutation(
    trpc.hospitals.updateDepartment.mutationOptions({
      onSuccess: () => {
        setEditing(false);
        setConfirming(false);
        onChanged();
      },
    }),
  );
  return (
    <tr>
      <td>{d.code}</td>
      <td>
        {editing ? (
          <Field label={`Name of ${d.code}`} error={update.error ? errorMessage(update.error) : undefined}>
            {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} maxLength={100} />}
          </Field>
        ) : (
          d.name
        )}
      </td>
      <td>{d.isActive ? 'Active' : 'Inactive'}</td>
      <td className="row-actions">
        {editing ? (
          <>
            <button type="button" className="primary" onClick={() => update.mutate({ id: d.id, name })}>
              Save
            </button>
            <button type="button" onClick={() => setEditing(false)}>
              Back
            </button>
          </>
        ) : (
          <button type="button" onClick={() => setEditing(true)} aria-label={`Rename ${d.code}`}>
            Rename
          </button>
        )}
        {/* Deactivating stops new alerts to a ward: it is asked first; activating is not. */}
        <button
          type="button"
          className={d.isActive ? 'danger' : undefined}
          onClick={() => (d.isActive ? setConfirming(true) : update.mutate({ id: d.id, isActive: true }))}
          aria-label={`${d.isActive ? 'Deactivate' : 'Activate'} ${d.code}`}
        >
          {d.isActive ? 'Deactivate' : 'Activate'}
        </button>
        {confirming ? (
          <ConfirmDialog title={`Deactivate ${d.name}?`} confirmLabel="Yes, deactivate" busy={update.isPending} onConfirm={() => update.mutate({ id: d.id, isActive: false })} onClose={() => setConfirming(false)}>
            <p>No new alerts can be raised for {d.name} and no new users added to it. Its users and its alert history stay; you can activate it again.</p>
          </ConfirmDialog>
        ) : null}
      </td>
    </tr>
  );
}
