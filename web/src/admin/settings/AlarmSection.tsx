import type { EscalationTarget } from '../../../../server/hospitals/settings.js';
import { Field } from '../../components/Field.js';
import { codeLabel, priorityLabel } from '../../lib/format.js';
import type { FieldErrors } from '../../lib/validate.js';
import { type Choice, TargetsEditor } from './TargetsEditor.js';

const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
export const CODES = ['blue', 'rapid_response', 'fire', 'lockdown', 'missing_person'] as const;
export type ShelveDraft = Record<(typeof PRIORITIES)[number], string>;
/** null: the code pages the head doctors (the server's default). */
export type CodeTeamsDraft = Partial<Record<(typeof CODES)[number], EscalationTarget[] | null>>;

interface Props {
  shelve: ShelveDraft;
  onShelve: (next: ShelveDraft) => void;
  codeTeams: CodeTeamsDraft;
  onCodeTeams: (next: CodeTeamsDraft) => void;
  errors: FieldErrors;
  schedules: Choice[];
  users: Choice[];
}

/** The form's draft of both as settings (numbers, and only the codes with a team of their own). */
export function alarmSettings(shelve: ShelveDraft, codeTeams: CodeTeamsDraft) {
  const teams = Object.fromEntries(Object.entries(codeTeams).filter(([, t]) => t));
  return {
    maxShelveMinutes: Object.fromEntries(PRIORITIES.map((p) => [p, shelve[p].trim() === '' ? Number.NaN : Number(shelve[p])])),
    ...(Object.keys(teams).length ? { codeTeams: teams } : {}),
  };
}

/**
 * Alarm management settings: the longest a person may shelve an alert of each priority (ISA-18.2 caps
 * shelving), and who each hospital code pages at once (the same targets as escalation).
 */
export function AlarmSection({ shelve, onShelve, codeTeams, onCodeTeams, errors, schedules, users }: Props) {
  return (
    <>
      <fieldset className="card">
        <legend>Shelving: the longest “not now”</legend>
        <p className="muted">A nurse or doctor may shelve an alert (no sound, no escalation) for at most this long; then it comes back and calls again. A hospital code is never shelved.</p>
        <div className="grid2">
          {PRIORITIES.map((p) => (
            <Field key={p} label={`${priorityLabel[p]}: longest shelving (minutes)`} error={errors[`maxShelveMinutes.${p}`]}>
              {(props) => <input {...props} type="number" inputMode="numeric" min={1} max={1440} value={shelve[p]} onChange={(e) => onShelve({ ...shelve, [p]: e.target.value })} />}
            </Field>
          ))}
        </div>
      </fieldset>
      <fieldset className="card">
        <legend>Code teams</legend>
        <p className="muted">Who a hospital code pages the moment it is called. Every board of the hospital shows and sounds it either way.</p>
        {CODES.map((c) => (
          <TargetsEditor
            key={c}
            priority="critical"
            levels={0}
            chain={codeTeams[c] ? [codeTeams[c] as EscalationTarget[]] : null}
            onChange={(chain) => onCodeTeams({ ...codeTeams, [c]: chain ? (chain[0] ?? []) : null })}
            errors={errors}
            schedules={schedules}
            users={users}
            single={{ label: codeLabel[c] ?? c, base: `codeTeams.${c}`, noneLabel: 'Default: page the head doctors' }}
          />
        ))}
      </fieldset>
    </>
  );
}
