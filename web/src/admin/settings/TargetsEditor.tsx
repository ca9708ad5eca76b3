import type { EscalationTarget } from '../../../../server/hospitals/settings.js';
import { Field } from '../../components/Field.js';
import { priorityLabel, roleLabel } from '../../lib/format.js';
import './TargetsEditor.css';
import type { FieldErrors } from '../../lib/validate.js';

export type Chain = EscalationTarget[][];
type Kind = EscalationTarget['kind'];
export interface Choice {
  id: string;
  label: string;
}

const ROLES = ['nurse', 'doctor', 'head_doctor', 'operator', 'admin'] as const;
export const KIND_LABEL: Record<Kind, string> = {
  assigned: 'Nurse assigned to the room',
  charge: 'Charge nurse',
  department: "The department's nurses and doctors",
  schedule: 'Whoever is on call (schedule)',
  role: 'Everyone with a role',
  user: 'A named person',
};

/** What a level without its own list pages (server/paging: level 0 the department, above it head doctors). */
export const fallbackTargets = (level: number): EscalationTarget[] => (level === 0 ? [{ kind: 'department' }] : [{ kind: 'role', role: 'head_doctor' }]);

/** The chain as long as the levels (0..levels), a missing level filled with what it falls back to. */
export function fitChain(chain: Chain, levels: number): Chain {
  return Array.from({ length: levels + 1 }, (_, i) => chain[i] ?? fallbackTargets(i));
}

function blank(kind: Kind, schedules: Choice[], users: Choice[]): EscalationTarget {
  if (kind === 'schedule') return { kind, scheduleId: schedules[0]?.id ?? '' };
  if (kind === 'role') return { kind, role: 'head_doctor' };
  if (kind === 'user') return { kind, userId: users[0]?.id ?? '' };
  return { kind };
}

interface Props {
  priority: keyof typeof priorityLabel & string;
  /** Number of timeouts: levels 0..levels exist. */
  levels: number;
  chain: Chain | null;
  onChange: (chain: Chain | null) => void;
  errors: FieldErrors;
  schedules: Choice[];
  users: Choice[];
  /** One list, not a chain of levels (a code team: settings.codeTeams.<code>); errors keyed `${base}.<target>`. */
  single?: { label: string; base: string; noneLabel: string };
}

/**
 * Who each escalation level of one priority pages, or "Page nobody (screens only)" — the behaviour
 * before pages existed. Errors sit on the target (the server's keys: escalation.high.targets.1.0).
 */
export function TargetsEditor({ priority, levels, chain, onChange, errors, schedules, users, single }: Props) {
  const p = single?.label ?? priorityLabel[priority];
  const base = single?.base ?? `escalation.${priority}.targets`;
  const levelKey = (i: number) => (single ? base : `${base}.${i}`);
  const list = chain ? fitChain(chain, levels) : null;
  const setLevel = (i: number, targets: EscalationTarget[]) => list && onChange(list.map((l, j) => (j === i ? targets : l)));
  const errorOf = (key: string) => errors[key] ?? errors[`${key}.scheduleId`] ?? errors[`${key}.userId`] ?? errors[`${key}.role`];

  return (
    <fieldset className="targets">
      <legend>{single ? p : `${p}: who is paged`}</legend>
      <label className="check">
        <input type="checkbox" checked={!list} onChange={(e) => onChange(e.target.checked ? null : fitChain([], levels))} />
        {single?.noneLabel ?? 'Page nobody (screens only)'}
      </label>
      {errors[base] ? (
        <p className="field-message" role="alert">
          {errors[base]}
        </p>
      ) : null}
      {list?.map((targets, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a level is its position
        <fieldset key={i} className="target-level">
          <legend>
            {single ? `${p}: paged at once` : `${p} level ${i}`}
            {i === 0 && !single ? ' (when raised)' : ''}
          </legend>
          {errors[levelKey(i)] && !single ? (
            <p className="field-message" role="alert">
              {errors[levelKey(i)]}
            </p>
          ) : null}
          {targets.map((t, k) => {
            const key = `${levelKey(i)}.${k}`;
            const set = (next: EscalationTarget) => setLevel(i, targets.map((x, j) => (j === k ? next : x)));
            const n = single ? `${p} target ${k + 1}` : `${p} level ${i} target ${k + 1}`;
            // A refused reference (a person deactivated meanwhile, a schedule gone) is the picker's fault, not the kind's.
            const error = errorOf(key);
            const picked = t.kind === 'schedule' || t.kind === 'role' || t.kind === 'user';
            return (
              // biome-ignore lint/suspicious/noArrayIndexKey: a target is its position in the level
              <div key={k} className="target-row">
                <Field label={n} error={picked ? undefined : error}>
                  {(props) => (
                    <select {...props} value={t.kind} onChange={(e) => set(blank(e.target.value as Kind, schedules, users))}>
                      {Object.entries(KIND_LABEL).map(([kind, label]) => (
                        <option key={kind} value={kind}>
                          {label}
                        </option>
                      ))}
                    </select>
                  )}
                </Field>
                {t.kind === 'schedule' ? (
                  <Field label={`${n}: schedule`} error={error}>
                    {(props) => (
                      <select {...props} value={t.scheduleId} onChange={(e) => set({ kind: 'schedule', scheduleId: e.target.value })}>
                        {schedules.length === 0 ? <option value="">No schedules yet</option> : null}
                        {schedules.map((s) => (
                          <option key={s.id} value={s.id}>
                            {s.label}
                          </option>
                        ))}
                      </select>
                    )}
                  </Field>
                ) : null}
                {t.kind === 'role' ? (
                  <Field label={`${n}: role`} error={error}>
                    {(props) => (
                      <select {...props} value={t.role} onChange={(e) => set({ kind: 'role', role: e.target.value as (typeof ROLES)[number] })}>
                        {ROLES.map((r) => (
                          <option key={r} value={r}>
                            {roleLabel[r]}
                          </option>
                        ))}
                      </select>
                    )}
                  </Field>
                ) : null}
                {t.kind === 'user' ? (
                  <Field label={`${n}: person`} error={error}>
                    {(props) => (
                      <select {...props} value={t.userId} onChange={(e) => set({ kind: 'user', userId: e.target.value })}>
                        {users.some((u) => u.id === t.userId) ? null : <option value={t.userId}>{t.userId ? 'Unknown person' : 'Choose…'}</option>}
                        {users.map((u) => (
                          <option key={u.id} value={u.id}>
                            {u.label}
                          </option>
                        ))}
                      </select>
                    )}
                  </Field>
                ) : null}
                <button type="button" className="target-remove" onClick={() => setLevel(i, targets.filter((_, j) => j !== k))} aria-label={`Remove ${n}`}>
                  Remove
                </button>
              </div>
            );
          })}
          <button type="button" onClick={() => setLevel(i, [...targets, { kind: 'assigned' }])} disabled={targets.length >= 10}>
            {single ? `Add target to ${p}` : `Add target to level ${i}`}
          </button>
        </fieldset>
      ))}
    </fieldset>
  );
}
