import { type FormEvent, useState } from 'react';
import { loginInput } from '../../../server/auth/schemas.js';
import { Field } from '../components/Field.js';
import { client, errorCode, errorMessage } from '../lib/api.js';
import { session, useSession } from '../lib/session.js';
import { type FieldErrors, validate } from '../lib/validate.js';

/** Email and password; then, when the server asks, a TOTP or backup code. */
export function SignIn() {
  const { notice } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [needCode, setNeedCode] = useState(false);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFailure(null);
    const v = validate(loginInput, { email, password, totp: needCode ? totp : undefined });
    if (v.errors) return setErrors(v.errors);
    setErrors({});
    setBusy(true);
    try {
      const result = await client.auth.login.mutate(v.data);
      if (result.status === 'two_factor_required') {
        setNeedCode(true);
        return;
      }
      session.signIn(result.token, result.user);
    } catch (err) {
      if (errorCode(err) === 'UNAUTHORIZED') setFailure(needCode ? 'That code, email or password is not correct.' : 'The email or password is not correct.');
      else if (errorCode(err) === 'TOO_MANY_REQUESTS') setFailure('Too many attempts. Wait a minute and try again.');
      else setFailure(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="auth-page">
      <form className="card auth-card" onSubmit={submit} noValidate>
        <h1>Clarion</h1>
        <p className="muted">Sign in to your hospital's alerting.</p>
        {notice ? (
          <p role="alert" className="notice">
            {notice}
          </p>
        ) : null}
        <Field autoFocus label="Email" error={errors.email}>
          {(p) => <input {...p} type="email" autoComplete="username" maxLength={254} value={email} onChange={(e) => setEmail(e.target.value)} disabled={needCode} />}
        </Field>
        <Field label="Password" error={errors.password}>
          {(p) => <input {...p} type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} disabled={needCode} />}
        </Field>
        {needCode ? (
          <Field autoFocus label="Authentication code" error={errors.totp} hint="The 6-digit code from your authenticator app, or a backup code.">
            {(p) => <input {...p} inputMode="text" autoComplete="one-time-code" value={totp} onChange={(e) => setTotp(e.target.value)} />}
          </Field>
        ) : null}
        {failure ? (
          <p role="alert" className="error">
            {failure}
          </p>
        ) : null}
        <button type="submit" className="primary" disabled={busy}>
          {needCode ? 'Verify' : 'Sign in'}
        </button>
        {needCode ? (
          <button
            type="button"
            onClick={() => {
              setNeedCode(false);
              setTotp('');
            }}
          >
            Start over
          </button>
        ) : null}
      </form>
    </main>
  );
}
