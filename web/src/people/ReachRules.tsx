import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { type Channel, type Contact, MAX_STEP_DELAY_SECONDS, type Rules, rulesSchema } from '../../../server/notifications/schemas.js';
import { Field } from '../components/Field.js';
import { PriorityBadge } from '../components/Priority.js';
import { errorMessage, serverFieldErrors, useTRPC } from '../lib/api.js';
import { priorityLabel } from '../lib/format.js';
import { type FieldErrors, issuesToFields } from '../lib/validate.js';
import { channelLabel } from './ReachContacts.js';

const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
const CHANNELS: Channel[] = ['push', 'sms', 'voice', 'email', 'webhook'];
const MAX_STEPS = 10;
type Priority = (typeof PRIORITIES)[number];
/** The form keeps what was typed (strings); numbers are made only to check and save. */
interface Step {
  channel: Channel;
  delay: string;
}
type Draft = Record<Priority, Step[]>;

const toDraft = (r: Rules): Draft => Object.fromEntries(PRIORITIES.map((p) => [p, r[p].map((s) => ({ channel: s.channel, delay: String(s.delaySeconds) }))])) as Draft;
const fromDraft = (d: Draft) => Object.fromEntries(PRIORITIES.map((p) => [p, d[p].map((s) => ({ channel: s.channel, delaySeconds: s.delay.trim() === '' ? Number.NaN : Number(s.delay) }))]));

/** What a step needs before it can reach me (the server skips a channel with no verified contact). */
const needs: Record<Exclude<Channel, 'push'>, string> = { sms: 'SMS number', voice: 'phone number for calls', email: 'email address', webhook: 'webhook' };
/** Push has one note for the whole form (no device can register yet), not a warning on every step. */
const skipped = (channel: Channel, ready: Set<Channel>) => (channel === 'push' || ready.has(channel) ? undefined : `Skipped: no verified ${needs[channel]} yet`);

/**
 * My steps per priority: which channel is tried, and how many seconds after the page, while it is
 * unanswered. Checked with the server's own schema, errors on the step that is wrong.
 */
export function ReachRules({ rules, custom, contacts }: { rules: Rules; custom: boolean; contacts: Contact[] }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [draft, setDraft] = useState(() => toDraft(rules));
  const [touched, setTouched] = useState(false);
  const [serverErrors, setServerErrors] = useState<FieldErrors>({});
  const save = useMutation(
    trpc.notifications.setRules.mutationOptions({
      onSuccess: (out) => qc.setQueryData(trpc.notifications.getRules.queryKey(), out),
      onError: (err) => setServerErrors(serverFieldErrors(err)),
    }),
  );
  // Saved rules (or another device's) replace the form; contact changes keep the same rules object.
  useEffect(() => setDraft(toDraft(rules)), [rules]);

  const ready = new Set(contacts.filter((c) => c.verified).map((c) => c.channel));
  const parsed = rulesSchema.safeParse(fromDraft(draft));
  const errors: FieldErrors = touched && !parsed.success ? { ...issuesToFields(parsed.error.issues, 99), ...serverErrors } : serverErrors;
  const errorCount = Object.keys(errors).length;
  const change = (p: Priority, steps: Step[]) => {
    setDraft({ ...draft, [p]: steps });
    setServerErrors({});
    save.reset();
  };
  const setStep = (p: Priority, i: number, patch: Partial<Step>) => change(p, draft[p].map((s, j) => (j === i ? { ...s, ...patch } : s)));
  // Moving swaps the channels and keeps the times where they are, so the order of delays stays valid.
  const move = (p: Priority, i: number, to: number) =>
    change(
      p,
      draft[p].map((s, j) => (j === i ? { ...s, channel: draft[p][to]!.channel } : j === to ? { ...s, channel: draft[p][i]!.channel } : s)),
    );
  const addStep = (p: Priority) => {
    const last = draft[p].at(-1);
    const unused = CHANNELS.find((c) => ready.has(c) && !draft[p].some((s) => s.channel === c)) ?? 'sms';
    change(p, [...draft[p], { channel: unused, delay: last ? String(Math.min(MAX_STEP_DELAY_SECONDS, (Number(last.delay) || 0) + 30)) : '0' }]);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (parsed.success) save.mutate({ rules: parsed.data });
  };

  return (
    <form className="card reach-rules" onSubmit={submit} noValidate aria-labelledby="reach-rules-title">
      <h2 id="reach-rules-title" className="card-title">
        Rules per priority {custom ? null : <span className="muted">(default)</span>}
      </h2>
      <p className="muted">
        While a page is unanswered, each step is tried the given number of seconds after it was sent.{custom ? '' : ' These are the defaults until you save your own.'}
      </p>
      {!ready.has('push') && PRIORITIES.some((p) => draft[p].some((s) => s.channel === 'push')) ? (
        <p className="muted">Push steps are skipped until a device of yours gets push notifications: allow them under This device.</p>
      ) : null}
      {PRIORITIES.map((p) => {
        const P = priorityLabel[p] as string;
        const steps = draft[p];
        return (
          <fieldset key={p} className="reach-priority" aria-label={P}>
            <legend>
              <PriorityBadge priority={p} />
            </legend>
            {errors[p] ? (
              <p className="field-message" role="alert">
                {errors[p]}
              </p>
            ) : null}
            {steps.length === 0 ? <p className="muted">No steps: {P.toLowerCase()} pages reach your screens only.</p> : null}
            <ol className="reach-steps">
              {steps.map((s, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: a step is its position
                <li key={i} className="reach-step">
                  <Field label={`Step ${i + 1}`} error={errors[`${p}.${i}.channel`]} warning={skipped(s.channel, ready)}>
                    {(props) => (
                      <select {...props} value={s.channel} onChange={(e) => setStep(p, i, { channel: e.target.value as Channel })}>
                        {CHANNELS.map((c) => (
                          <option key={c} value={c}>
                            {channelLabel[c]}
                          </option>
                        ))}
                      </select>
                    )}
                  </Field>
                  <Field label="After (seconds)" error={errors[`${p}.${i}.delaySeconds`]}>
                    {(props) => (
                      <input {...props} type="number" inputMode="numeric" min={0} max={MAX_STEP_DELAY_SECONDS} value={s.delay} onChange={(e) => setStep(p, i, { delay: e.target.value })} />
                    )}
                  </Field>
                  <div className="reach-step-actions">
                    <button type="button" aria-label={`Move ${P} step ${i + 1} up`} title="Move up" disabled={i === 0} onClick={() => move(p, i, i - 1)}>
                      ↑
                    </button>
                    <button type="button" aria-label={`Move ${P} step ${i + 1} down`} title="Move down" disabled={i === steps.length - 1} onClick={() => move(p, i, i + 1)}>
                      ↓
                    </button>
                    <button type="button" aria-label={`Remove ${P} step ${i + 1}`} onClick={() => change(p, steps.filter((_, j) => j !== i))}>
                      Remove
                    </button>
                  </div>
                </li>
              ))}
            </ol>
            <button type="button" aria-label={`Add step to ${P}`} disabled={steps.length >= MAX_STEPS} onClick={() => addStep(p)}>
              Add step
            </button>
          </fieldset>
        );
      })}
      <div className="actions">
        <button type="submit" className="primary" disabled={save.isPending}>
          Save rules
        </button>
        <button
          type="button"
          onClick={() => {
            setDraft(toDraft(rules));
            setTouched(false);
            setServerErrors({});
            save.reset();
          }}
        >
          Undo changes
        </button>
      </div>
      {errorCount ? (
        <p role="alert" className="error">
          {errors.rules ?? (errorCount === 1 ? '1 field needs a correction.' : `${errorCount} fields need a correction.`)}
        </p>
      ) : null}
      {save.isError && !Object.keys(serverErrors).length ? <p role="alert">{errorMessage(save.error)}</p> : null}
      <p role="status">{save.isSuccess ? 'Rules saved' : ''}</p>
    </form>
  );
}
