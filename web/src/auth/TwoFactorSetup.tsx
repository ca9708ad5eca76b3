import { type FormEvent, useEffect, useRef, useState } from 'react';
import { enableTwoFactorInput } from '../../../server/auth/schemas.js';
import { Field } from '../components/Field.js';
import { client, errorMessage, serverFieldErrors } from '../lib/api.js';
import { session } from '../lib/session.js';
import { type FieldErrors, validate } from '../lib/validate.js';

interface Setup {
  otpauthUri: string;
  qrCodeDataUrl: string;
  backupCodes: string[];
}

/** Scan the QR code, keep the backup codes (shown once), confirm with a first code. */
export function TwoFactorSetup() {
  const [setup, setSetup] = useState<Setup | null>(null);
  const [totp, setTotp] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<string | null>(null);

  const started = useRef(false);
  useEffect(() => {
    // Once: each call makes a new secret, so a second call would invalidate the QR code on screen.
    if (started.current) return;
    started.current = true;
    client.auth.setupTwoFactor
      .mutate()
      .then(setSetup)
      .catch((err) => setFailure(errorMessage(err)));
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const v = validate(enableTwoFactorInput, { totp });
    if (v.errors) return setErrors(v.errors);
    setErrors({});
    try {
      await client.auth.enableTwoFactor.mutate(v.data);
      session.setUser(await client.auth.me.query());
    } catch (err) {
      const fe = serverFieldErrors(err);
      if (Object.keys(fe).length) setErrors(fe);
      else setFailure(errorMessage(err) || 'That code is not correct');
    }
  };

  const secret = setup ? new URL(setup.otpauthUri.replace('otpauth://', 'http://')).searchParams.get('secret') : null;
  return (
    <main className="auth-page">
      <form className="card auth-card wide" onSubmit={submit} noValidate>
        <h1>Set up two-factor authentication</h1>
        <p className="muted">Your role requires a second step at sign-in. Scan this code with an authenticator app.</p>
        {setup ? (
          <>
            <img src={setup.qrCodeDataUrl} alt="QR code for your authenticator app" width={200} height={200} className="qr" />
            {secret ? (
              <p>
                Or enter this key: <code>{secret}</code>
              </p>
            ) : null}
            <h2>Backup codes</h2>
            <p className="muted">Each works once if you lose your phone. Store them safely: they are shown only now.</p>
            <ul className="backup-codes" aria-label="Backup codes">
              {setup.backupCodes.map((c) => (
                <li key={c}>
                  <code>{c}</code>
                </li>
              ))}
            </ul>
            <Field label="6-digit code from your app" error={errors.totp}>
              {(p) => <input {...p} inputMode="numeric" autoComplete="one-time-code" value={totp} onChange={(e) => setTotp(e.target.value)} />}
            </Field>
            <button type="submit" className="primary">
              Turn on two-factor
            </button>
          </>
        ) : (
          <p>Preparing…</p>
        )}
        {failure ? (
          <p role="alert" className="error">
            {failure}
          </p>
        ) : null}
      </form>
    </main>
  );
}
