import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import type { z } from 'zod';
import { createWebhookInput, type webhookSchema } from '../../../../server/integrations/webhook-schemas.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { Field } from '../../components/Field.js';
import { errorMessage, serverFieldErrors, useTRPC } from '../../lib/api.js';
import { when } from '../../lib/format.js';
import { type FieldErrors, validate } from '../../lib/validate.js';
import { Deliveries } from './Deliveries.js';
import { eventLabel, webhookEvents } from './labels.js';
import { ShownOnce } from './ShownOnce.js';

type Webhook = z.infer<typeof webhookSchema>;
const EMPTY = { url: '', events: ['alert.created'] as string[] };

/** Outbound webhooks: Clarion POSTs each chosen alert event, signed with the secret shown once. */
export function Webhooks() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const hooks = useQuery(trpc.integrations.listWebhooks.queryOptions());
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.integrations.listWebhooks.queryKey() });
  const [values, setValues] = useState(EMPTY);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [secret, setSecret] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const create = useMutation(
    trpc.integrations.createWebhook.mutationOptions({
      onSuccess: (h) => {
        setSecret(h.secret);
        setValues(EMPTY);
        void refresh();
      },
      onError: (e) => setErrors(serverFieldErrors(e)),
    }),
  );
  const remove = useMutation(trpc.integrations.deleteWebhook.mutationOptions({ onSuccess: () => refresh().then(() => setDeleting(null)) }));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const v = validate(createWebhookInput, { url: values.url.trim(), events: values.events });
    if (v.errors) return setErrors(v.errors);
    setErrors({});
    create.mutate(v.data);
  };
  const toggle = (ev: string) => setValues({ ...values, events: values.events.includes(ev) ? values.events.filter((x) => x !== ev) : [...values.events, ev] });
  const list = (hooks.data?.webhooks ?? []).filter((h) => h.isActive);

  return (
    <section aria-labelledby="hooks-title" className="integrations-part">
      <h2 id="hooks-title">Webhooks</h2>
      <p className="muted">
        Clarion POSTs each chosen event as JSON, signed in <code>X-Clarion-Signature</code>, and retries for a day when the receiver does not answer 2xx.
      </p>
      {secret ? <ShownOnce label="Signing secret" value={secret} onDone={() => setSecret(null)} /> : null}
      <form className="card" onSubmit={submit} noValidate aria-label="New webhook">
        <Field label="URL" error={errors.url} hint="Where Clarion POSTs the events, https:// in production">
          {(p) => <input {...p} type="url" inputMode="url" autoComplete="off" placeholder="https://ehr.example.org/clarion" value={values.url} onChange={(e) => setValues({ ...values, url: e.target.value })} />}
        </Field>
        <fieldset className="integrations-checks" aria-invalid={Boolean(errors.events)}>
          <legend>Events to send</legend>
          {webhookEvents.map((ev) => (
            <label key={ev.value} className="check">
              <input type="checkbox" checked={values.events.includes(ev.value)} onChange={() => toggle(ev.value)} />
              {ev.label}
            </label>
          ))}
          {errors.events ? <p className="field-message" role="alert">{errors.events}</p> : null}
        </fieldset>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create webhook
        </button>
        {create.error && !Object.keys(errors).length ? <p role="alert">{errorMessage(create.error)}</p> : null}
      </form>
      {hooks.isPending ? <p className="empty" role="status">Loading webhooks…</p> : null}
      {hooks.isError ? <p role="alert">{errorMessage(hooks.error)}</p> : null}
      {hooks.data && list.length === 0 ? <p className="empty">No webhooks yet: add one above to send alert events to another system.</p> : null}
      <ul className="integrations-hooks">
        {list.map((h) => (
          <li key={h.id} className="card" aria-label={`Webhook ${h.url}`}>
            <h3 className="integrations-url"><code>{h.url}</code></h3>
            <p>
              <span className="muted">Sends: </span>
              {h.events.map(eventLabel).join(', ')}
            </p>
            <p className="muted">Added {when(h.createdAt)}</p>
            <div className="actions">
              <button type="button" aria-expanded={open === h.id} onClick={() => setOpen(open === h.id ? null : h.id)}>
                {open === h.id ? 'Hide deliveries' : 'Show deliveries'}
              </button>
              <button type="button" className="danger" onClick={() => setDeleting(h)} aria-label={`Delete webhook ${h.url}`}>
                Delete
              </button>
            </div>
            {open === h.id ? <Deliveries webhookId={h.id} url={h.url} /> : null}
          </li>
        ))}
      </ul>
      {deleting ? (
        <ConfirmDialog
          title="Delete this webhook?"
          confirmLabel="Delete webhook"
          busy={remove.isPending}
          error={remove.isError ? errorMessage(remove.error) : null}
          onConfirm={() => remove.mutate({ webhookId: deleting.id })}
          onClose={() => setDeleting(null)}
        >
          <p>
            Clarion stops sending events to <code>{deleting.url}</code>. Deliveries not made yet are not sent.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
