import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { can } from '../../../server/permissions.js';
import type { Schedule, TimelineSegment } from '../../../server/schedules/schemas.js';
import { errorMessage, useTRPC } from '../lib/api.js';
import { roleLabel } from '../lib/format.js';
import type { SessionUser } from '../lib/session.js';
import { OnCallCalendar } from './OnCallCalendar.js';
import { type OverrideDraft, OverrideForm } from './OverrideForm.js';
import { ScheduleForm } from './ScheduleForm.js';
import { localDays, momentOf, toLocalInput } from './zoned.js';
import './OnCall.css';

const DAYS = 14;
const CLINICAL = ['nurse', 'doctor', 'head_doctor'] as const;

/** "Dr Ivan until Fri 4 Dec, 07:00" / "Nobody is on call". */
function NowOnCall({ s }: { s: Schedule }) {
  const names = s.onCall.names.join(', ');
  return (
    <p className="oncall-now-line">
      {names ? (
        <>
          On call now: <strong>{names}</strong>
          {s.onCall.until ? ` until ${momentOf(s.onCall.until, s.effectiveTimezone)}` : ''}
        </>
      ) : (
        <strong className="oncall-nobody">Nobody is on call now</strong>
      )}
    </p>
  );
}

/**
 * On call: who carries the pager for each schedule over the next 14 days, in the hospital's time.
 * Anyone may look; a nurse or doctor may put themselves on (a swap, covering a colleague); head
 * doctors and admins create rotations and set overrides for anyone.
 */
export function OnCall({ user }: { user: SessionUser }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const manages = can(user.role, 'schedule.manage');
  const covers = manages || can(user.role, 'schedule.coverSelf');
  const list = useQuery(trpc.schedules.list.queryOptions());
  const hospital = useQuery(trpc.hospitals.getCurrent.queryOptions());
  const staff = useQuery({ ...trpc.users.directory.queryOptions({ roles: [...CLINICAL] }), enabled: manages });
  const [scheduleId, setScheduleId] = useState<string | null>(null);
  const [editing, setEditing] = useState<'new' | 'edit' | null>(null);
  const [selected, setSelected] = useState<TimelineSegment | null>(null);
  const [draft, setDraft] = useState<OverrideDraft>({ userId: user.id, from: '', to: '', reason: '' });

  const schedules = list.data ?? [];
  const current = schedules.find((s) => s.id === scheduleId) ?? schedules[0];
  const zone = current?.effectiveTimezone ?? hospital.data?.timezone ?? 'UTC';
  const window = useMemo(() => {
    const days = localDays(zone, DAYS);
    return { from: days[0]!.start.toISO()!, to: days[DAYS - 1]!.end.toISO()! };
  }, [zone]);
  const timeline = useQuery({ ...trpc.schedules.timeline.queryOptions({ scheduleId: current?.id ?? '', ...window }), enabled: Boolean(current) });
  const remove = useMutation(
    trpc.schedules.removeOverride.mutationOptions({
      onSuccess: () => {
        setSelected(null);
        void qc.invalidateQueries({ queryKey: trpc.schedules.pathKey() });
      },
    }),
  );

  const people = manages
    ? (staff.data ?? []).map((u) => ({ id: u.id, label: `${u.name} · ${roleLabel[u.role]}${u.departmentName ? ` · ${u.departmentName}` : ''}` }))
    : [{ id: user.id, label: user.name }];
  const hospitalZone = hospital.data?.timezone ?? 'UTC';
  const proposeWindow = (from: string | number, to: string | number) => setDraft({ ...draft, from: toLocalInput(from, zone), to: toLocalInput(to, zone) });

  if (list.isError) return <p role="alert">{errorMessage(list.error)}</p>;
  return (
    <main className="oncall">
      <header className="oncall-head">
        <h1>On call</h1>
        {schedules.length > 1 ? (
          <label className="oncall-pick">
            Schedule
            <select
              value={current?.id ?? ''}
              onChange={(e) => {
                setScheduleId(e.target.value);
                setSelected(null);
              }}
            >
              {schedules.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                  {s.isActive ? '' : ' (inactive)'}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        {manages ? (
          <div className="actions">
            {current ? (
              <button type="button" onClick={() => setEditing('edit')}>
                Edit schedule
              </button>
            ) : null}
            <button type="button" onClick={() => setEditing('new')}>
              New schedule
            </button>
          </div>
        ) : null}
      </header>
      {editing ? (
        <ScheduleForm
          key={editing === 'edit' ? current?.id : 'new'}
          schedule={editing === 'edit' ? current : undefined}
          hospitalZone={hospitalZone}
          people={people}
          onDone={(id) => {
            setEditing(null);
            if (id) {
              setScheduleId(id);
              setSelected(null);
            }
          }}
        />
      ) : null}
      {!list.data ? <p role="status">Loading schedules…</p> : null}
      {list.data && !current ? <p className="empty">No on-call schedules yet.{manages ? ' Create one with “New schedule”.' : ''}</p> : null}
      {current ? (
        <section aria-labelledby="oncall-title" className="card">
          <h2 id="oncall-title" className="card-title">
            {current.name} <span className="muted">· {zone} time</span>
          </h2>
          {current.isActive ? <NowOnCall s={current} /> : <p className="oncall-nobody">This schedule is inactive: nobody is paged through it.</p>}
          <p className="muted oncall-legend">
            <span className="oncall-key oncall-shift" /> rotation <span className="oncall-key oncall-override" /> override <span className="oncall-key oncall-gap" /> nobody on call
          </p>
          {timeline.isError ? <p role="alert">{errorMessage(timeline.error)}</p> : null}
          <OnCallCalendar
            zone={zone}
            days={DAYS}
            segments={timeline.data ?? []}
            selected={selected}
            onSelect={(s) => {
              setSelected(s);
              if (covers) proposeWindow(s.from, s.to);
            }}
            onDrag={(from, to) => proposeWindow(from, to)}
          />
          {selected ? (
            <section className="oncall-selected" aria-label="Selected shift">
              <p>
                <strong>{selected.userName ?? 'Nobody on call'}</strong>
                {selected.override ? ' (override)' : ''}: {momentOf(selected.from, zone)} – {momentOf(selected.to, zone)}
              </p>
              {selected.overrideId && (manages || selected.userId === user.id) ? (
                <button type="button" className="danger" disabled={remove.isPending} onClick={() => remove.mutate({ overrideId: selected.overrideId! })}>
                  Remove override
                </button>
              ) : null}
              {remove.isError ? <p role="alert">{errorMessage(remove.error)}</p> : null}
            </section>
          ) : null}
        </section>
      ) : null}
      {current && covers ? <OverrideForm scheduleId={current.id} zone={zone} draft={draft} onChange={setDraft} people={people} onSaved={() => setSelected(null)} /> : null}
      <datalist id="timezones">
        {(Intl.supportedValuesOf?.('timeZone') ?? []).map((z) => (
          <option key={z} value={z} />
        ))}
      </datalist>
    </main>
  );
}
