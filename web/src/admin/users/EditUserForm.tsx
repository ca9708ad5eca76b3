import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import type { Department } from '../../../../server/hospitals/schemas.js';
import { type User, updateUserInput } from '../../../../server/users/schemas.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { Field } from '../../components/Field.js';
import { errorMessage, serverFieldErrors, useTRPC } from '../../lib/api.js';
import { roleLabel } from '../../lib/format.js';
import type { SessionUser } from '../../lib/session.js';
import { type FieldErrors, validate } from '../../lib/validate.js';
import { SetupLinkBox } from './SetupLinkBox.js';

const ROLES = ['operator', 'nurse', 'doctor', 'head_doctor', 'admin'] as const;

/** Edit details, change role, deactivate or reactivate, unlock sign-in of one user. */
export function EditUserForm({ user, self, departments, onClose }: { user: User; self: SessionUser; departments: Department[]; onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.users.getAll.pathKey() });
  const [values, setValues] = useState({ name: user.name, email: user.email, departmentId: user.departmentId ?? '' });
  const [role, setRole] = useState<string>(user.role);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [confirmDeactivate, setConfirmDeactivate] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const ok = (text: string) => () => {
    setDone(text);
    void refresh();
  };
  const update = useMutation(trpc.users.update.mutationOptions({ onSuccess: ok('Saved'), onError: (e) => setErrors(serverFieldErrors(e)) }));
  const updateRole = useMutation(trpc.users.updateRole.mutationOptions({ onSuccess: ok('Role changed') }));
  const deactivate = useMutation(trpc.users.deactivate.mutationOptions({ onSuccess: () => {
    setConfirmDeactivate(false);
    ok('Deactivated')();
  } }));
  const reactivate = useMutation(trpc.users.reactivate.mutationOptions({ onSuccess: ok('Reactivated') }));
  // The nurse who phones because sign-in is refused: clears the failed sign-in counts and locks.
  const unlock = useMutation(
    trpc.users.unlock.mutationOptions({
      onSuccess: (r) => ok(r.clearedLocks ? `Unlocked: sign-in works again on ${r.clearedLocks} locked ${r.clearedLocks === 1 ? 'device' : 'devices'}` : 'Unlocked: nothing was locked; failed sign-ins cleared')(),
    }),
  );
  // A new one-time link (the older one stops working): for a lost password or an expired first link.
  const issueLink = useMutation(trpc.accounts.issueSetupLink.mutationOptions({ onSuccess: () => setDone(null) }));
  const set = (k: keyof typeof values) => (e: { target: { value: string } }) => setValues({ ...values, [k]: e.target.value });

  const save = (e: FormEvent) => {
    e.preventDefault();
    const v = validate(updateUserInput, { id: user.id, name: values.name, email: values.email, departmentId: values.departmentId || null });
    if (v.errors) return setErrors(v.errors);
    setErrors({});
    update.mutate(v.data);
  };
  const failure = update.error ?? updateRole.error ?? deactivate.error ?? reactivate.error ?? issueLink.error ?? unlock.error;

  return (
    <section className="card edit-user" aria-label={`Edit ${user.name}`}>
      <h2>Edit {user.name}</h2>
      <h3>Details</h3>
      <form onSubmit={save} noValidate>
        <div className="grid2">
          <Field label="Name" error={errors.name}>
            {(p) => <input {...p} value={values.name} onChange={set('name')} maxLength={100} />}
          </Field>
          <Field label="Email" error={errors.email}>
            {(p) => <input {...p} type="email" value={values.email} onChange={set('email')} maxLength={254} />}
          </Field>
          <Field label="Department" error={errors.departmentId}>
            {(p) => (
              <select {...p} value={values.departmentId} onChange={set('departmentId')}>
                <option value="">None</option>
                {departments.map((d) => (
                  <option key={d.id} value={d.id}>
                    {d.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <button type="submit" className="primary" disabled={update.isPending}>
          Save changes
        </button>
      </form>
      <h3>Role</h3>
      <div className="inline-form">
        <Field label="New role">
          {(p) => (
            <select {...p} value={role} onChange={(e) => setRole(e.target.value)}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {roleLabel[r]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button
          type="button"
          disabled={role === user.role || updateRole.isPending}
          onClick={() => updateRole.mutate({ userId: user.id, role: role as User['role'], departmentId: values.departmentId || undefined })}
        >
          Change role
        </button>
      </div>
      <h3>Account</h3>
      <div className="actions">
        {user.isActive ? (
          <button type="button" className="danger" disabled={user.id === self.id} onClick={() => setConfirmDeactivate(true)}>
            Deactivate
          </button>
        ) : (
          <button type="button" onClick={() => reactivate.mutate({ id: user.id })}>
            Reactivate
          </button>
        )}
        <button type="button" disabled={!user.isActive || issueLink.isPending} onClick={() => issueLink.mutate({ id: user.id })}>
          Send new setup link
        </button>
        <button type="button" disabled={unlock.isPending} onClick={() => unlock.mutate({ userId: user.id })}>
          Unlock
        </button>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      {issueLink.data ? <SetupLinkBox link={issueLink.data} email={user.email} /> : null}
      {done ? <p role="status">{done}</p> : null}
      {failure && !Object.keys(errors).length ? <p role="alert">{errorMessage(failure)}</p> : null}
      {confirmDeactivate ? (
        <ConfirmDialog
          title={`Deactivate ${user.name}?`}
          confirmLabel="Yes, deactivate"
          busy={deactivate.isPending}
          onConfirm={() => deactivate.mutate({ id: user.id })}
          onClose={() => setConfirmDeactivate(false)}
        >
          <p>They are signed out everywhere at once and can no longer sign in. Their history stays.</p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
