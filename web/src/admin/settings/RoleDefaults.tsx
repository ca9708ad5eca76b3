import type { Channel, Rules } from '../../../../server/notifications/schemas.js';
import { builtInRules, MAX_STEP_DELAY_SECONDS } from '../../../../server/notifications/schemas.js';
import { Field } from '../../components/Field.js';
import { priorityLabel, roleLabel } from '../../lib/format.js';
import type { FieldErrors } from '../../lib/validate.js';

const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
type Priority = (typeof PRIORITIES)[number];
/** The roles a page can find (server/notifications/coverage.ts): the only ones whose defaults matter. */
export const PAGEABLE_ROLES = ['nurse', 'doctor', 'head_doctor'] as const;
const CHANNELS: Channel[] = ['push', 'sms', 'voice', 'email', 'webhook'];
const CHANNEL_LABEL: Record<Channel, string> = { push: 'Push', sms: 'SMS', voice: 'Phone call', email: 'Email', webhook: 'Webhook' };
const MAX_STEPS = 10;

/** A step as typed: the delay stays a string until it is checked with the server's rulesSchema. */
export interface StepDraft {
  channel: Channel;
  delay: string;
}
export type RulesDraft = Record<Priority, StepDraft[]>;
/** Per role; a role that is absent gets Clarion's built-in steps. Other roles' saved entries ride along untouched. */
export type DefaultsDraft = Partial<Record<string, RulesDraft>>;


export const rulesToDraft = (r: Rules): RulesDraft => Object.fromEntries(PRIORITIES.map((p) => [p, r[p].map((s) => ({ channel: s.channel, delay: String(s.delaySeconds) }))])) as RulesDraft;
export const draftToRules = (d: RulesDraft) =>
  Object.fromEntries(PRIORITIES.map((p) => [p, d[p].map((s) => ({ channel: s.channel, delaySeconds: s.delay.trim() === '' ? Number.NaN : Number(s.delay) }))]));

interface Props {
  defaults: DefaultsDraft;
  onChange: (next: DefaultsDraft) => void;
  /** Keyed by the server's paths: notificationDefaults.nurse.critical.1.delaySeconds. */
  errors: FieldErrors;
}

/**
 * How each role is reached until a person saves their own rules on Reach me: Clarion's built-in
 * steps, or this hospital's — per priority, which channel is tried how many seconds after the page.
 */
export function RoleDefaults({ defaults, onChange, errors }: Props) {
  const setRole = (role: string, rules: RulesDraft | undefined) => {
    const next = { ...defaults };
    if (rules) next[role] = rules;
    else delete next[role];
    onChange(next);
  };
  return (
    <div className="role-defaults">
      <h2>How each role is reached until a person sets their own rules</h2>
      <p className="muted">Built-in: a push at once for every priority; for critical, an SMS after 30 s and a call after 60 s; for high, an SMS after 60 s. A step whose channel a person has not set up is skipped.</p>
      {PAGEABLE_ROLES.map((role) => {
        const R = roleLabel[role] as string;
        const rules = defaults[role];
        return (
          <fieldset key={role} className="role-default">
            <legend>{R}</legend>
            <label className="check">
              <input type="checkbox" checked={Boolean(rules)} onChange={(e) => setRole(role, e.target.checked ? rulesToDraft(builtInRules()) : undefined)} />
              This hospital's steps for {R.toLowerCase()}s
            </label>
            {rules ? (
              PRIORITIES.map((p) => (
                <PrioritySteps key={p} role={role} priority={p} steps={rules[p]} errors={errors} onChange={(steps) => setRole(role, { ...rules, [p]: steps })} />
              ))
            ) : (
              <p className="muted">Clarion's built-in steps.</p>
            )}
          </fieldset>
        );
      })}
    </div>
  );
}

function PrioritySteps({ role, priority, steps, errors, onChange }: { role: string; priority: Priority; steps: StepDraft[]; errors: FieldErrors; onChange: (s: StepDraft[]) => void }) {
  const name = `${roleLabel[role]} ${priorityLabel[priority]}`;
  const base = `notificationDefaults.${role}.${priority}`;
  const set = (i: number, patch: Partial<StepDraft>) => onChange(steps.map((s, j) => (j === i ? { ...s, ...patch } : s)));
  const add = () => {
    const last = steps.at(-1);
    const channel = CHANNELS.find((c) => !steps.some((s) => s.channel === c)) ?? 'sms';
    onChange([...steps, { channel, delay: last ? String(Math.min(MAX_STEP_DELAY_SECONDS, (Number(last.delay) || 0) + 30)) : '0' }]);
  };
  return (
    <fieldset className="role-priority" aria-label={name}>
      <legend>{priorityLabel[priority]}</legend>
      {errors[base] ? (
        <p className="field-message" role="alert">
          {errors[base]}
        </p>
      ) : null}
      {steps.length === 0 ? <p className="muted">No steps: screens only.</p> : null}
      <ol className="role-steps">
        {steps.map((s, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a step is its position
          <li key={i} className="role-step">
            <Field label={`Step ${i + 1}`} error={errors[`${base}.${i}.channel`]}>
              {(props) => (
                <select {...props} value={s.channel} onChange={(e) => set(i, { channel: e.target.value as Channel })}>
                  {CHANNELS.map((c) => (
                    <option key={c} value={c}>
                      {CHANNEL_LABEL[c]}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label="After (seconds)" error={errors[`${base}.${i}.delaySeconds`]}>
              {(props) => <input {...props} type="number" inputMode="numeric" min={0} max={MAX_STEP_DELAY_SECONDS} value={s.delay} onChange={(e) => set(i, { delay: e.target.value })} />}
            </Field>
            <button type="button" className="role-step-remove" aria-label={`Remove ${name} step ${i + 1}`} onClick={() => onChange(steps.filter((_, j) => j !== i))}>
              Remove
            </button>
          </li>
        ))}
      </ol>
      <button type="button" aria-label={`Add step to ${name}`} disabled={steps.length >= MAX_STEPS} onClick={add}>
        Add step
      </button>
    </fieldset>
  );
}
