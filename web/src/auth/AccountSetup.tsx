import { type FormEvent, useEffect, useRef, useState } from 'react';
import { z } from 'zod';
import type { SetupInfo } from '../../../server/accounts/schemas.js';
import { newPasswordSchema, passwordPolicyProblem, zTotp } from '../../../server/auth/schemas.js';
import { Field } from '../components/Field.js';
import { client, errorCode, errorMessage, serverFieldErrors } from '../lib/api.js';
import { dateTime, roleLabel } from '../lib/format.js';
import { session } from '../lib/session.js';
import { leaveSetupPage } from '../lib/setupToken.js';
import { type FieldErrors, validate } from '../lib/validate.js';

/** Every unusable link (forged, expired, spent, replaced, user deactivated) gets this one message. */
export const INVALID_LINK_MESSAGE = 'This link is no longer valid. Ask your administrator for a new one.';

/** The server's password policy (shared schema and rule), the confirmation, and a code when 2FA is on. */
function formSchema(info: SetupInfo) {
  return z
    .object({ password: newPasswordSchema, confirmPassword: z.string(), totp: info.twoFactorCodeRequired ? zTotp : z.undefined() })
    .superRefine((v, ctx) => {
      const problem = passwordPolicyProblem(v.password, info.email);
      if (problem) ctx.addIssue({ code: 'custom', path: ['password'], message: problem });
      if (v.password !== v.confirmPassword) ctx.addIssue({ code: 'custom', path: ['confirmPassword'], message: 'The two passwords do not match' });
    });
}

type State = { kind: 'loading' } | { kind: 'invalid' } | { kind: 'failed'; message: string } | { kind: 'ready'; info: SetupInfo };

/**
 * /setup?token=…: the one-time link an admin (or the email) gave a new user. Shows whose account it
 * is, lets them choose a password (and give a 2FA code if they already have 2FA), then signs them in;
 * the app continues into 2FA setup when their role requires it.
 */
export function AccountSetup({ token, onDone }: { token: string | null; onDone: () => void }) {
  const [state, setState] = useState<State>(token ? { kind: 'loading' } : { kind: 'invalid' });
  const [values, setValues] = useState({ password: '', confirmPassword: '', totp: '' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof values) => (e: { target: { value: string } }) => setValues({ ...values, [k]: e.target.value });

  const started = useRef(false);
  useEffect(() => {
    // Once (StrictMode runs effects twice): each look-up counts against the link's attempt limit.
    if (!token || started.current) return;
    started.current = true;
    client.accounts.getSetupInfo
      .mutate({ token })
      .then((info) => setState({ kind: 'ready', info }))
      .catch((err) =>
        setState(errorCode(err) === 'UNAUTHORIZED' || errorCode(err) === 'BAD_REQUEST' ? { kind: 'invalid' } : { kind: 'failed', message: failureText(err) }),
      );
  }, [token]);

  if (state.kind !== 'ready' || !token) {
    return (
      <main className="auth-page">
        <section className="card auth-card" aria-labelledby="setup-title">
          <h1 id="setup-title">Set up your account</h1>
          {state.kind === 'loading' ? <p>Checking your link…</p> : null}
          {state.kind === 'invalid' ? (
            <p role="alert" className="error">
              {INVALID_LINK_MESSAGE}
            </p>
          ) : null}
          {state.kind === 'failed' ? (
            <p role="alert" className="error">
              {state.message}
            </p>
          ) : null}
          {state.kind !== 'loading' ? <a href="/">Go to sign in</a> : null}
        </section>
      </main>
    );
  }

  const { info } = state;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFailure(null);
    const v = validate(formSchema(info), { ...values, totp: info.twoFactorCodeRequired ? values.totp : undefined });
    if (v.errors) return setErrors(v.errors);
    setErrors({});
    setBusy(true);
    try {
      const result = await client.accounts.completeSetup.mutate({ token, password: v.data.password, totp: v.data.totp });
      leaveSetupPage();
      session.signIn(result.token, result.user);
      onDone();
    } catch (err) {
      const fe = serverFieldErrors(err);
      if (errorCode(err) === 'UNAUTHORIZED') setState({ kind: 'invalid' });
      else if (Object.keys(fe).length) setErrors(fe);
      else setFailure(failureText(err));
    } finally {
      setBusy(false);
    }
  };

  const reset = info.purpose === 'password_reset';
  return (
    <main className="auth-page">
      <form className="card auth-card" onSubmit={submit} noValidate aria-labelledby="setup-title">
        <h1 id="setup-title">{reset ? 'Choose a new password' : 'Set up your account'}</h1>
        <dl className="setup-who" aria-label="Account">
          <dt>Name</dt>
          <dd>{info.name}</dd>
          <dt>Email</dt>
          <dd>{info.email}</dd>
          <dt>Role</dt>
          <dd>
            {roleLabel[info.role]} · {info.hospitalName}
          </dd>
        </dl>
        <p className="muted">This link works once, until {dateTime(info.expiresAt)}.</p>
        <Field autoFocus label="New password" error={errors.password} hint="At least 12 characters, not your email address.">
          {(p) => <input {...p} type="password" autoComplete="new-password" value={values.password} onChange={set('password')} />}
        </Field>
        <Field label="Confirm password" error={errors.confirmPassword}>
          {(p) => <input {...p} type="password" autoComplete="new-password" value={values.confirmPassword} onChange={set('confirmPassword')} />}
        </Field>
        {info.twoFactorCodeRequired ? (
          <Field label="Authentication code" error={errors.totp} hint="Your account has two-factor on: the 6-digit code from your app, or a backup code.">
            {(p) => <input {...p} inputMode="text" autoComplete="one-time-code" value={values.totp} onChange={set('totp')} />}
          </Field>
        ) : null}
        {info.twoFactorSetupRequired ? <p className="muted">Next, your role requires two-factor authentication: you will set it up with an authenticator app.</p> : null}
        {failure ? (
          <p role="alert" className="error">
            {failure}
          </p>
        ) : null}
        <button type="submit" className="primary" disabled={busy}>
          Set password and sign in
        </button>
      </form>
    </main>
  );
}

function failureText(err: unknown): string {
  if (errorCode(err) === 'TOO_MANY_REQUESTS') return 'Too many attempts. Wait a minute and try again.';
  return errorMessage(err) || 'Could not reach the server. Try again.';
}
