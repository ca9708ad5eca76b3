import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import type { Department } from '../../../../server/hospitals/schemas.js';
import { createUserInput, creatableRoles } from '../../../../server/users/schemas.js';
import { Field } from '../../components/Field.js';
import { errorMessage, serverFieldErrors, useTRPC } from '../../lib/api.js';
import { roleLabel } from '../../lib/format.js';
import { SetupLinkBox } from './SetupLinkBox.js';
import { blankToUndefined, type FieldErrors, validate } from '../../lib/validate.js';

const EMPTY = { name: '', email: '', role: 'nurse', departmentId: '', licenseNumber: '', specialization: '' };

/** Create a user; the setup link (unless emailed) and the temporary password are shown here once and never again. */
export function CreateUserForm({ departments, onClose }: { departments: Department[]; onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [values, setValues] = useState(EMPTY);
  const [errors, setErrors] = useState<FieldErrors>({});
  const create = useMutation(
    trpc.users.create.mutationOptions({
      onSuccess: () => qc.invalidateQueries({ queryKey: trpc.users.getAll.pathKey() }),
      onError: (err) => setErrors(serverFieldErrors(err)),
    }),
  );
  const set = (k: keyof typeof EMPTY) => (e: { target: { value: string } }) => setValues({ ...values, [k]: e.target.value });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const raw = blankToUndefined(values);
    const v = validate(createUserInput, raw);
    if (v.errors) return setErrors(v.errors);
    setErrors({});
    // The server parses again; send the form's own values (the schema's input type).
    create.mutate({ ...v.data, licenseNumber: raw.licenseNumber, specialization: raw.specialization });
  };

  if (create.data) {
    return (
      <section className="card created" aria-label="User created">
        <h2>Created {create.data.user.name}</h2>
        <SetupLinkBox link={create.data.setupLink} email={create.data.user.email} />
        <p>
          Or, if they cannot use the link, give them this temporary password. It is shown only now; they choose their own at first
          sign-in.
        </p>
        <p>
          Temporary password: <code className="temp-password">{create.data.temporaryPassword}</code>
        </p>
        <button type="button" onClick={onClose}>
          Done
        </button>
      </section>
    );
  }

  return (
    <form className="card" onSubmit={submit} noValidate aria-label="Create user">
      <h2>Create user</h2>
      <div className="grid2">
        <Field label="Name" error={errors.name}>
          {(p) => <input {...p} value={values.name} onChange={set('name')} maxLength={100} />}
        </Field>
        <Field label="Email" error={errors.email}>
          {(p) => <input {...p} type="email" value={values.email} onChange={set('email')} maxLength={254} />}
        </Field>
        <Field label="Role" error={errors.role}>
          {(p) => (
            <select {...p} value={values.role} onChange={set('role')}>
              {creatableRoles.map((r) => (
                <option key={r} value={r}>
                  {roleLabel[r]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Department" error={errors.departmentId}>
          {(p) => (
            <select {...p} value={values.departmentId} onChange={set('departmentId')}>
              <option value="">None</option>
              {departments
                .filter((d) => d.isActive)
                .map((d) => (
                  <option key={d.id} value={d.id}>
                    {d.name}
                  </option>
                ))}
            </select>
          )}
        </Field>
        <Field label="Licence number (optional)" error={errors.licenseNumber}>
          {(p) => <input {...p} value={values.licenseNumber} onChange={set('licenseNumber')} maxLength={50} />}
        </Field>
        <Field label="Specialization (optional)" error={errors.specialization}>
          {(p) => <input {...p} value={values.specialization} onChange={set('specialization')} maxLength={100} />}
        </Field>
      </div>
      {create.error && !Object.keys(serverFieldErrors(create.error)).length ? <p role="alert">{errorMessage(create.error)}</p> : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={create.isPending}>
          Save user
        </button>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </form>
  );
}
