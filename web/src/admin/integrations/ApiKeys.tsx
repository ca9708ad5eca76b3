import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { type ApiKey, type ApiKeyScope, apiKeyScopes, createKeyInput } from '../../../../server/integrations/schemas.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { Field } from '../../components/Field.js';
import { errorMessage, serverFieldErrors, useTRPC } from '../../lib/api.js';
import { dateTime, dayInputToIso, when } from '../../lib/format.js';
import { type FieldErrors, validate } from '../../lib/validate.js';
import { scopeLabel } from './labels.js';
import { ShownOnce } from './ShownOnce.js';

const EMPTY = { name: '', scopes: ['alerts:write'] as ApiKeyScope[], expires: '', heartbeatMinutes: '' };

function keyState(k: ApiKey): string {
  if (k.revokedAt) return `Revoked ${dateTime(k.revokedAt)}`;
  if (k.expiresAt && Date.parse(k.expiresAt) <= Date.now()) return `Expired ${dateTime(k.expiresAt)}`;
  return 'Active';
}

/** Keys for the hospital's own systems (nurse call, EHR): created here, shown once, revoked here. */
export function ApiKeys() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const keys = useQuery(trpc.integrations.listKeys.queryOptions());
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.integrations.listKeys.queryKey() });
  const [values, setValues] = useState(EMPTY);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [created, setCreated] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const create = useMutation(
    trpc.integrations.createKey.mutationOptions({
      onSuccess: (k) => {
        setCreated(k.key);
        setValues(EMPTY);
        void refresh();
      },
      onError: (e) => setErrors(serverFieldErrors(e)),
    }),
  );
  const revoke = useMutation(trpc.integrations.revokeKey.mutationOptions({ onSuccess: () => refresh().then(() => setRevoking(null)) }));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const minutes = values.heartbeatMinutes.trim();
    if (minutes && !(/^\d+$/.test(minutes) && Number(minutes) >= 1 && Number(minutes) <= 1440)) return setErrors({ heartbeatMinutes: 'Whole minutes from 1 to 1440' });
    const v = validate(createKeyInput, {
      name: values.name,
      scopes: values.scopes,
      expiresAt: values.expires ? dayInputToIso(values.expires, true) : undefined,
      heartbeatSeconds: minutes ? Number(minutes) * 60 : undefined,
    });
    if (v.errors) return setErrors(v.errors);
    setErrors({});
    create.mutate(v.data);
  };
  const toggle = (s: ApiKeyScope) => setValues({ ...values, scopes: values.scopes.includes(s) ? values.scopes.filter((x) => x !== s) : [...values.scopes, s] });
  const list = keys.data?.keys ?? [];

  return (
    <section aria-labelledby="keys-title" className="integrations-part">
      <h2 id="keys-title">API keys</h2>
      <p className="muted">A system that raises or reads alerts over the REST API (/api/v1, documented at /api/docs) or FHIR (/fhir, IHE mACM) sends one of these as <code>Authorization: Bearer …</code>.</p>
      {created ? <ShownOnce label="New API key" value={created} onDone={() => setCreated(null)} /> : null}
      <form className="card" onSubmit={submit} noValidate aria-label="New API key">
        <div className="grid2">
          <Field label="Name" error={errors.name} hint="Which system uses it, e.g. Nurse call ICU">
            {(p) => <input {...p} value={values.name} maxLength={80} onChange={(e) => setValues({ ...values, name: e.target.value })} />}
          </Field>
          <Field label="Expires after (optional)" error={errors.expiresAt} hint="Leave empty for a key that does not expire">
            {(p) => <input {...p} type="date" value={values.expires} onChange={(e) => setValues({ ...values, expires: e.target.value })} />}
          </Field>
          <Field label="Heartbeat in minutes (optional)" error={errors.heartbeatMinutes ?? errors.heartbeatSeconds} hint="Silence longer than this raises a system alert">
            {(p) => <input {...p} inputMode="numeric" value={values.heartbeatMinutes} onChange={(e) => setValues({ ...values, heartbeatMinutes: e.target.value })} />}
          </Field>
        </div>
        <fieldset className="integrations-checks" aria-invalid={Boolean(errors.scopes)}>
          <legend>What it may do</legend>
          {apiKeyScopes.map((s) => (
            <label key={s} className="check">
              <input type="checkbox" checked={values.scopes.includes(s)} onChange={() => toggle(s)} />
              {scopeLabel[s]} <code>{s}</code>
            </label>
          ))}
          {errors.scopes ? <p className="field-message" role="alert">{errors.scopes}</p> : null}
        </fieldset>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create key
        </button>
        {create.error && !Object.keys(errors).length ? <p role="alert">{errorMessage(create.error)}</p> : null}
      </form>
      {keys.isPending ? <p className="empty" role="status">Loading keys…</p> : null}
      {keys.isError ? <p role="alert">{errorMessage(keys.error)}</p> : null}
      {keys.data && list.length === 0 ? <p className="empty">No API keys yet: create one above for each system that sends alerts.</p> : null}
      {list.length ? (
        <div className="table-scroll">
          <table className="data stack-table">
            <caption className="sr-only">API keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">May</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">State</th>
                <th scope="col"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {list.map((k) => (
                <tr key={k.id} className={k.revokedAt ? 'integrations-off' : undefined}>
                  <td data-label="Name"><strong>{k.name}</strong></td>
                  <td data-label="Key"><code>{k.keyPrefix}…</code></td>
                  <td data-label="May">{k.scopes.map((s) => scopeLabel[s] ?? s).join(', ')}</td>
                  <td data-label="Last used">{k.lastUsedAt ? when(k.lastUsedAt) : 'Never'}</td>
                  <td data-label="Expires">{k.expiresAt ? dateTime(k.expiresAt) : 'Never'}</td>
                  <td data-label="State">{keyState(k)}</td>
                  <td>
                    <div className="row-actions">
                    {k.revokedAt ? null : (
                      <button type="button" className="danger" onClick={() => setRevoking(k)} aria-label={`Revoke ${k.name}`}>
                        Revoke
                      </button>
                    )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {revoking ? (
        <ConfirmDialog
          title={`Revoke ${revoking.name}?`}
          confirmLabel="Revoke key"
          busy={revoke.isPending}
          error={revoke.isError ? errorMessage(revoke.error) : null}
          onConfirm={() => revoke.mutate({ keyId: revoking.id })}
          onClose={() => setRevoking(null)}
        >
          <p>Within a second, every request with this key is refused. This cannot be undone: the system needs a new key.</p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
