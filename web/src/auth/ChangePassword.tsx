import { type FormEvent, useState } from 'react';
import { z } from 'zod';
import { changePasswordInput } from '../../../server/auth/schemas.js';
import { Field } from '../components/Field.js';
import { client, errorMessage, serverFieldErrors } from '../lib/api.js';
import { session } from '../lib/session.js';
import { type FieldErrors, validate } from '../lib/validate.js';

const form = changePasswordInput.extend({ confirmPassword: z.string() }).refine((v) => v.newPassword === v.confirmPassword, {
  path: ['confirmPassword'],
  message: 'The two new passwords do not match',
});

/** First sign-in (or a reset): the user must choose their own password before anything else. */
export function ChangePassword({ required, onDone }: { required: boolean; onDone?: () => void }) {
  const [values, setValues] = useState({ currentPassword: '', newPassword: '', confirmPassword: '' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof values) => (e: { target: { value: string } }) => setValues({ ...values, [k]: e.target.value });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const v = validate(form, values);
    if (v.errors) return setErrors(v.errors);
    setErrors({});
    setFailure(null);
    setBusy(true);
    try {
      await client.auth.changePassword.mutate({ currentPassword: v.data.currentPassword, newPassword: v.data.newPassword });
      session.setUser(await client.auth.me.query());
      onDone?.();
    } catch (err) {
      const fe = serverFieldErrors(err);
      if (Object.keys(fe).length) setErrors(fe);
      else setFailure(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="auth-page">
      <form className="card auth-card" onSubmit={submit} noValidate>
        <h1>{required ? 'Choose your password' : 'Change password'}</h1>
        {required ? <p className="muted">Before you continue, replace the temporary password you were given.</p> : null}
        <Field autoFocus label={required ? 'Temporary password' : 'Current password'} error={errors.currentPassword}>
          {(p) => <input {...p} type="password" autoComplete="current-password" value={values.currentPassword} onChange={set('currentPassword')} />}
        </Field>
        <Field label="New password" error={errors.newPassword} hint="At least 12 characters.">
          {(p) => <input {...p} type="password" autoComplete="new-password" value={values.newPassword} onChange={set('newPassword')} />}
        </Field>
        <Field label="Confirm new password" error={errors.confirmPassword}>
          {(p) => <input {...p} type="password" autoComplete="new-password" value={values.confirmPassword} onChange={set('confirmPassword')} />}
        </Field>
        {failure ? (
          <p role="alert" className="error">
            {failure}
          </p>
        ) : null}
        <button type="submit" className="primary" disabled={busy}>
          Set password
        </button>
        {required ? (
          <button type="button" onClick={() => void client.auth.logout.mutate().finally(() => session.end(null))}>
            Sign out
          </button>
        ) : null}
      </form>
    </main>
  );
}
