import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { type HospitalSettings, hospitalSettingsSchema } from '../../../../server/hospitals/settings.js';
import { Field } from '../../components/Field.js';
import { errorMessage, serverFieldErrors, useTRPC } from '../../lib/api.js';
import { priorityLabel, roleLabel } from '../../lib/format.js';
import { type FieldErrors, issuesToFields } from '../../lib/validate.js';
import { AlarmSection, alarmSettings, type CodeTeamsDraft, type ShelveDraft } from './AlarmSection.js';
import { type Detail, NotificationsSection } from './NotificationsSection.js';
import { type DefaultsDraft, draftToRules, type RulesDraft, rulesToDraft } from './RoleDefaults.js';
import { type Chain, fitChain, TargetsEditor } from './TargetsEditor.js';
import { settingsWarnings } from './warnings.js';

const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
const ROLES = ['operator', 'nurse', 'doctor', 'head_doctor', 'admin'] as const;
type Priority = (typeof PRIORITIES)[number];
/** The form keeps what was typed (strings); numbers are made only to check and save. */
interface Draft {
  levels: Record<Priority, string[]>;
  ack: Record<Priority, string>;
  twoFactor: string[];
  sessionHours: string;
  dedupWindowSeconds: string;
  noScreenAlertAfterSeconds: string;
  /** null: page nobody (screens only). */
  targets: Record<Priority, Chain | null>;
  timezone: string;
  notificationDetail: Detail;
  notificationDefaults: DefaultsDraft;
  shelve: ShelveDraft;
  codeTeams: CodeTeamsDraft;
}

const num = (v: string) => (v.trim() === '' ? Number.NaN : Number(v));

function toDraft(s: HospitalSettings): Draft {
  return {
    levels: Object.fromEntries(PRIORITIES.map((p) => [p, s.escalation[p].levelTimeoutsSeconds.map(String)])) as Draft['levels'],
    ack: Object.fromEntries(PRIORITIES.map((p) => [p, s.escalation[p].ackTimeoutSeconds?.toString() ?? ''])) as Draft['ack'],
    twoFactor: s.requireTwoFactorFor,
    sessionHours: String(s.sessionHours),
    dedupWindowSeconds: String(s.dedupWindowSeconds),
    noScreenAlertAfterSeconds: String(s.noScreenAlertAfterSeconds),
    targets: Object.fromEntries(PRIORITIES.map((p) => [p, s.escalation[p].targets ?? null])) as Draft['targets'],
    timezone: s.timezone ?? '',
    notificationDetail: s.notificationDetail,
    notificationDefaults: Object.fromEntries(Object.entries(s.notificationDefaults ?? {}).map(([role, rules]) => [role, rulesToDraft(rules)])),
    shelve: Object.fromEntries(PRIORITIES.map((p) => [p, String(s.maxShelveMinutes[p])])) as ShelveDraft,
    codeTeams: { ...(s.codeTeams ?? {}) },
  };
}

function fromDraft(d: Draft): unknown {
  return {
    escalation: Object.fromEntries(
      PRIORITIES.map((p) => {
        const targets = d.targets[p];
        return [p, { levelTimeoutsSeconds: d.levels[p].map(num), ...(d.ack[p].trim() ? { ackTimeoutSeconds: num(d.ack[p]) } : {}), ...(targets ? { targets: fitChain(targets, d.levels[p].length) } : {}) }];
      }),
    ),
    ...(d.timezone.trim() ? { timezone: d.timezone.trim() } : {}),
    requireTwoFactorFor: d.twoFactor,
    sessionHours: num(d.sessionHours),
    dedupWindowSeconds: num(d.dedupWindowSeconds),
    noScreenAlertAfterSeconds: num(d.noScreenAlertAfterSeconds),
    notificationDetail: d.notificationDetail,
    ...alarmSettings(d.shelve, d.codeTeams),
    ...(Object.keys(d.notificationDefaults).length
      ? { notificationDefaults: Object.fromEntries(Object.entries(d.notificationDefaults).map(([role, rules]) => [role, draftToRules(rules as RulesDraft)])) }
      : {}),
  };
}

/**
 * Every hospital setting (server/hospitals/settings.ts): the escalation policy per priority (seconds
 * per level and the acknowledgement timeout), duplicate window, no-screen warning delay, session
 * length, the roles that need two-factor, and notifications (lock-screen detail, role defaults). Checked on every change with the server's schema:
 * errors sit on the field that is wrong; allowed but dangerous values get a warning.
 */
export function SettingsPanel() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const hospital = useQuery(trpc.hospitals.getCurrent.queryOptions());
  const [draft, setDraft] = useState<Draft | null>(null);
  const [touched, setTouched] = useState(false);
  const [serverErrors, setServerErrors] = useState<FieldErrors>({});
  const save = useMutation(
    trpc.hospitals.updateSettings.mutationOptions({
      onSuccess: () => qc.invalidateQueries({ queryKey: trpc.hospitals.getCurrent.queryKey() }),
      onError: (err) => setServerErrors(serverFieldErrors(err)),
    }),
  );
  const settings = hospital.data?.settings;
  const schedules = useQuery({ ...trpc.schedules.list.queryOptions(), select: (l) => l.map((x) => ({ id: x.id, label: x.name })) });
  const people = useQuery({
    ...trpc.users.getAll.queryOptions({ limit: 100, isActive: true }),
    select: (r) => r.users.map((u) => ({ id: u.id, label: `${u.name} · ${roleLabel[u.role]}${u.departmentName ? ` · ${u.departmentName}` : ''}` })),
  });
  useEffect(() => {
    if (settings) setDraft(toDraft(settings));
  }, [settings]);

  if (hospital.isError) return <p role="alert">{errorMessage(hospital.error)}</p>;
  if (!settings || !draft)
    return (
      <p className="empty" role="status">
        Loading settings…
      </p>
    );

  const parsed = hospitalSettingsSchema.safeParse(fromDraft(draft));
  const errors: FieldErrors = touched && !parsed.success ? { ...issuesToFields(parsed.error.issues, 99), ...serverErrors } : serverErrors;
  const warnings = parsed.success ? settingsWarnings(parsed.data) : {};
  const change = (next: Draft) => {
    setDraft(next);
    setServerErrors({});
    save.reset();
  };
  const setLevel = (p: Priority, i: number, v: string) => change({ ...draft, levels: { ...draft.levels, [p]: draft.levels[p].map((x, j) => (j === i ? v : x)) } });
  const text = (k: 'sessionHours' | 'dedupWindowSeconds' | 'noScreenAlertAfterSeconds') => (e: { target: { value: string } }) => change({ ...draft, [k]: e.target.value });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!parsed.success) return;
    // null removes what was cleared: an acknowledgement timeout, a chain (back to screens only), the zone.
    const escalation = Object.fromEntries(
      PRIORITIES.map((p) => {
        const e = parsed.data.escalation[p];
        return [p, { levelTimeoutsSeconds: e.levelTimeoutsSeconds, ackTimeoutSeconds: e.ackTimeoutSeconds ?? null, targets: e.targets ?? null }];
      }),
    ) as Record<Priority, { levelTimeoutsSeconds: number[]; ackTimeoutSeconds: number | null; targets: Chain | null }>;
    // notificationDefaults replaces the whole map; null: every role back to Clarion's built-in steps.
    save.mutate({ ...parsed.data, escalation, timezone: parsed.data.timezone ?? null, notificationDefaults: parsed.data.notificationDefaults ?? null, codeTeams: parsed.data.codeTeams ?? null });
  };
  const errorCount = Object.keys(errors).length;
  const hint = (path: string) => warnings[path];

  return (
    <form onSubmit={submit} noValidate aria-labelledby="settings-title" className="settings">
      <h1 id="settings-title">Hospital settings — {hospital.data?.name}</h1>
      <fieldset className="card">
        <legend>Escalation policy</legend>
        <p className="muted">A waiting alert moves up one level after the given seconds at each level. An acknowledged alert that is not resolved within its acknowledgement timeout comes back to the board.</p>
        {PRIORITIES.map((p) => (
          <fieldset key={p} className="levels">
            <legend>{priorityLabel[p]}</legend>
            {draft.levels[p].map((s, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a level is its position
              <Field key={i} label={`${priorityLabel[p]} level ${i} → ${i + 1} (seconds)`} error={errors[`escalation.${p}.levelTimeoutsSeconds.${i}`]} warning={hint(`escalation.${p}.levelTimeoutsSeconds.${i}`)}>
                {(props) => <input {...props} type="number" inputMode="numeric" min={1} max={86400} value={s} onChange={(e) => setLevel(p, i, e.target.value)} />}
              </Field>
            ))}
            <Field label={`${priorityLabel[p]} acknowledgement timeout (seconds, blank for none)`} error={errors[`escalation.${p}.ackTimeoutSeconds`]} warning={hint(`escalation.${p}.ackTimeoutSeconds`)}>
              {(props) => <input {...props} type="number" inputMode="numeric" min={1} max={86400} value={draft.ack[p]} onChange={(e) => change({ ...draft, ack: { ...draft.ack, [p]: e.target.value } })} />}
            </Field>
            <div className="actions">
              <button type="button" onClick={() => change({ ...draft, levels: { ...draft.levels, [p]: [...draft.levels[p], '300'] } })} disabled={draft.levels[p].length >= 10}>
                Add level
              </button>
              <button type="button" onClick={() => change({ ...draft, levels: { ...draft.levels, [p]: draft.levels[p].slice(0, -1) } })} disabled={draft.levels[p].length <= 1}>
                Remove level
              </button>
            </div>
          </fieldset>
        ))}
      </fieldset>
      <fieldset className="card">
        <legend>Who is paged</legend>
        <p className="muted">When an alert reaches a level, these targets are resolved to people at that moment and each gets a page (My alerts). A level that finds nobody moves up at once.</p>
        <Field label="Time zone (for on-call schedules)" hint="An IANA name such as Europe/London; blank for the server's default." error={errors.timezone}>
          {(p) => <input {...p} list="timezones" value={draft.timezone} maxLength={64} onChange={(e) => change({ ...draft, timezone: e.target.value })} />}
        </Field>
        <datalist id="timezones">
          {(Intl.supportedValuesOf?.('timeZone') ?? []).map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
        {PRIORITIES.map((p) => (
          <TargetsEditor
            key={p}
            priority={p}
            levels={draft.levels[p].length}
            chain={draft.targets[p]}
            onChange={(chain) => change({ ...draft, targets: { ...draft.targets, [p]: chain } })}
            errors={errors}
            schedules={schedules.data ?? []}
            users={people.data ?? []}
          />
        ))}
      </fieldset>
      <NotificationsSection
        detail={draft.notificationDetail}
        onDetail={(notificationDetail) => change({ ...draft, notificationDetail })}
        defaults={draft.notificationDefaults}
        onDefaults={(notificationDefaults) => change({ ...draft, notificationDefaults })}
        errors={errors}
      />
      <AlarmSection
        shelve={draft.shelve}
        onShelve={(shelve) => change({ ...draft, shelve })}
        codeTeams={draft.codeTeams}
        onCodeTeams={(codeTeams) => change({ ...draft, codeTeams })}
        errors={errors}
        schedules={schedules.data ?? []}
        users={people.data ?? []}
      />
      <fieldset className="card">
        <legend>Two-factor authentication required for</legend>
        {ROLES.map((r) => (
          <label key={r} className="check">
            <input type="checkbox" checked={draft.twoFactor.includes(r)} onChange={(e) => change({ ...draft, twoFactor: e.target.checked ? [...draft.twoFactor, r] : draft.twoFactor.filter((x) => x !== r) })} />
            {roleLabel[r]}
          </label>
        ))}
        {warnings.requireTwoFactorFor ? <p className="field-warning">{warnings.requireTwoFactorFor}</p> : null}
      </fieldset>
      <div className="card grid2">
        <Field label="Duplicate window (seconds)" hint="The same alert raised again within this time counts as a repeat, not a new alert." error={errors.dedupWindowSeconds} warning={hint('dedupWindowSeconds')}>
          {(p) => <input {...p} type="number" inputMode="numeric" min={0} max={86400} value={draft.dedupWindowSeconds} onChange={text('dedupWindowSeconds')} />}
        </Field>
        <Field label="No-screen warning after (seconds)" hint="A department with no board online this long gets a system alert." error={errors.noScreenAlertAfterSeconds}>
          {(p) => <input {...p} type="number" inputMode="numeric" min={30} max={86400} value={draft.noScreenAlertAfterSeconds} onChange={text('noScreenAlertAfterSeconds')} />}
        </Field>
        <Field label="Session length (hours)" error={errors.sessionHours} warning={hint('sessionHours')}>
          {(p) => <input {...p} type="number" inputMode="numeric" min={1} max={336} value={draft.sessionHours} onChange={text('sessionHours')} />}
        </Field>
      </div>
      <div className="actions">
        <button type="submit" className="primary" disabled={save.isPending}>
          Save settings
        </button>
        <button type="button" onClick={() => change(toDraft(settings))}>
          Undo changes
        </button>
      </div>
      {errorCount ? <p role="alert" className="error">{errorCount === 1 ? '1 field needs a correction.' : `${errorCount} fields need a correction.`}</p> : null}
      {save.error && !Object.keys(serverErrors).length ? <p role="alert">{errorMessage(save.error)}</p> : null}
      {save.isSuccess ? <p role="status">Settings saved</p> : null}
    </form>
  );
}
