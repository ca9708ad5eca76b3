import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { type CurrentAssignments, MAX_ASSIGNMENT_HOURS, setAssignmentsInput } from '../../../server/assignments/schemas.js';
import type { Department } from '../../../server/hospitals/schemas.js';
import { Field } from '../components/Field.js';
import { errorCode, errorMessage, serverFieldErrors, useTRPC } from '../lib/api.js';
import { when } from '../lib/format.js';
import type { SessionUser } from '../lib/session.js';
import { type FieldErrors, issuesToFields } from '../lib/validate.js';
import { AssignmentGrid, AssignmentList, type Person } from './AssignmentGrid.js';
import './Assignments.css';

const HOUR = 3_600_000;
const key = (room: string) => room.toLowerCase();
const pad = (n: number) => String(n).padStart(2, '0');
/** A datetime-local input's value: the screen's local time, to the minute. */
const toLocalInput = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;

/**
 * The end of the shift being set: the next 07:00 or 19:00 local. One less than an hour away is the
 * shift that is ending (a nurse setting up at 06:50 means the day shift), so the one after it counts.
 */
export function endOfShift(now = new Date()): Date {
  const d = new Date(now);
  d.setMinutes(0, 0, 0);
  for (;;) {
    d.setHours(d.getHours() + 1);
    if ((d.getHours() === 7 || d.getHours() === 19) && d.getTime() - now.getTime() >= HOUR) return d;
  }
}

/** The form: who has each room (lower-cased room → user id), the charge nurse, the end of shift. */
interface Draft {
  owner: Record<string, string>;
  charge: string | null;
  until: string;
}

function toDraft(data: CurrentAssignments): Draft {
  const owner: Record<string, string> = {};
  for (const e of data.entries) for (const r of e.rooms) owner[key(r)] = e.userId;
  // Not the current list's end: at 06:55 that is the night shift's 07:00, minutes away.
  return { owner, charge: data.entries.find((e) => e.charge)?.userId ?? null, until: toLocalInput(endOfShift()) };
}

function checkUntil(value: string): string | undefined {
  const t = value ? new Date(value).getTime() : Number.NaN;
  if (Number.isNaN(t)) return 'Enter a date and time';
  if (t <= Date.now()) return 'Choose a time in the future';
  if (t > Date.now() + MAX_ASSIGNMENT_HOURS * HOUR) return `At most ${MAX_ASSIGNMENT_HOURS} hours ahead`;
  return undefined;
}

/**
 * The charge nurse's shift-start screen: who has which room until the end of the shift, and who is
 * in charge. A nurse sees her own department; head doctors and admins pick one.
 */
export function Assignments({ user }: { user: SessionUser }) {
  const trpc = useTRPC();
  const departments = useQuery(trpc.hospitals.getDepartments.queryOptions());
  const [picked, setPicked] = useState('');
  const fixed = user.role === 'nurse';
  const list = (departments.data ?? []).filter((d) => d.isActive || d.id === user.departmentId);
  const id = fixed ? user.departmentId : picked || (list.find((d) => d.id === user.departmentId) ?? list[0])?.id;
  const dept = list.find((d) => d.id === id);
  return (
    <main className="assignments">
      <header className="page-head assign-head">
        <h1>Assignments{fixed && dept ? ` — ${dept.name}` : ''}</h1>
        {!fixed && list.length ? (
          <Field label="Department">
            {(p) => (
              <select {...p} value={id ?? ''} onChange={(e) => setPicked(e.target.value)}>
                {list.map((d) => (
                  <option key={d.id} value={d.id}>
                    {d.code} — {d.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        ) : null}
      </header>
      {departments.isError ? <p role="alert">{errorMessage(departments.error)}</p> : null}
      {departments.isPending ? <p className="empty" role="status">Loading departments…</p> : null}
      {departments.data && !dept ? <p className="empty">{fixed ? 'Your department was not found: ask an admin.' : 'No departments yet.'}</p> : null}
      {dept ? <DepartmentAssignments key={dept.id} user={user} department={dept} /> : null}
    </main>
  );
}

function DepartmentAssignments({ user, department }: { user: SessionUser; department: Department }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const input = { departmentId: department.id };
  const current = useQuery(trpc.assignments.current.queryOptions(input));
  // The hospital's staff directory: the unit's nurses are the columns, and it names who set the list.
  const staff = useQuery(trpc.users.directory.queryOptions());
  const [draft, setDraft] = useState<Draft | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [sent, setSent] = useState<string[]>([]);
  const save = useMutation(
    trpc.assignments.set.mutationOptions({
      onSuccess: (data) => {
        qc.setQueryData(trpc.assignments.current.queryKey(input), data);
        setDraft(toDraft(data));
      },
      onError: (err) => {
        setErrors(serverFieldErrors(err));
        // Someone else became charge nurse meanwhile: show the list as it is now (read-only).
        if (errorCode(err) === 'FORBIDDEN') void current.refetch();
      },
    }),
  );
  useEffect(() => {
    if (!current.data) return;
    const data = current.data;
    // A nurse starting the shift in her own unit (nobody is charge) starts as its charge nurse.
    const starts = user.role === 'nurse' && user.departmentId === data.departmentId && !data.entries.some((e) => e.charge);
    setDraft((d) => d ?? { ...toDraft(data), ...(starts ? { charge: user.id } : {}) });
  }, [current.data, user]);
  const entries = current.data?.entries ?? [];
  const first = entries[0];

  if (current.isError) return <p role="alert">{errorMessage(current.error)}</p>;
  if (!draft) return <p className="empty" role="status">Loading assignments…</p>;

  const people = new Map<string, Person>();
  for (const e of entries) people.set(e.userId, { id: e.userId, name: e.userName, canCharge: true });
  for (const u of staff.data ?? [])
    if ((u.role === 'nurse' && u.departmentId === department.id) || people.has(u.id)) people.set(u.id, { id: u.id, name: u.name, canCharge: u.role === 'nurse' });
  if (user.role === 'nurse' && user.departmentId === department.id) people.set(user.id, { id: user.id, name: user.name, canCharge: true });
  const columns = [...people.values()].sort((a, b) => a.name.localeCompare(b.name));

  const chargeNow = entries.find((e) => e.charge);
  // A nurse of the unit edits as its charge nurse, or — the last list has run out — starts the shift as charge (the server's rule).
  const ownUnit = user.role === 'nurse' && user.departmentId === department.id;
  const startsShift = ownUnit && !chargeNow;
  const mayEdit = user.role === 'head_doctor' || user.role === 'admin' || (ownUnit && chargeNow?.userId === user.id) || startsShift;
  const setterName = first?.assignedBy === user.id ? 'you' : (staff.data?.find((u) => u.id === first?.assignedBy)?.name ?? 'a colleague');
  const free = department.rooms.filter((r) => !draft.owner[key(r)]);

  const change = (next: Draft) => {
    setDraft(next);
    setErrors({});
    save.reset();
  };
  const onRoom = (room: string, userId: string) => {
    const owner = { ...draft.owner };
    if (owner[key(room)] === userId) delete owner[key(room)];
    else owner[key(room)] = userId;
    change({ ...draft, owner });
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const payload = columns
      .map((p) => ({ userId: p.id, rooms: department.rooms.filter((r) => draft.owner[key(r)] === p.id), ...(draft.charge === p.id ? { charge: true } : {}) }))
      .filter((x) => x.rooms.length || x.charge);
    const found: FieldErrors = {};
    const untilError = checkUntil(draft.until);
    if (untilError) found.until = untilError;
    if (!draft.charge) found.charge = 'Choose the charge nurse';
    const until = untilError ? '' : new Date(draft.until).toISOString();
    const parsed = setAssignmentsInput.safeParse({ departmentId: department.id, entries: payload, until });
    if (!parsed.success) Object.assign(found, { ...issuesToFields(parsed.error.issues, 3), ...found });
    setSent(payload.map((x) => x.userId));
    setErrors(found);
    if (Object.keys(found).length || !parsed.success) return;
    save.mutate(parsed.data);
  };

  // Messages keyed entries.<i>.<field> belong to the person sent at index i: shown in their column.
  const byPerson: Record<string, string> = {};
  let other = '';
  for (const [k, message] of Object.entries(errors)) {
    const m = /^entries\.(\d+)/.exec(k);
    const who = m ? sent[Number(m[1])] : undefined;
    if (who) byPerson[who] ??= message;
    else if (k !== 'until' && k !== 'charge') other ||= message;
  }
  const errorCount = Object.keys(errors).length;

  return (
    <>
      <p className="assign-meta">
        {first ? `Set by ${setterName} at ${when(first.assignedAt)} · counts until ${when(first.until)}` : `No assignments are set for ${department.name} right now.`}
      </p>
      {save.isSuccess ? (
        <p role="status" className="ok">
          Assignments saved
        </p>
      ) : null}
      {/* Outside the form: a refusal (no longer charge nurse) turns the form into the read-only view. */}
      {other || (save.error && !errorCount) ? (
        <p role="alert" className="error">
          {other || errorMessage(save.error)}
        </p>
      ) : null}
      {!department.rooms.length ? <p className="empty">{department.name} has no rooms yet: an admin adds them under Admin → Departments.</p> : null}
      {mayEdit && department.rooms.length ? (
        <form className="assign-body" onSubmit={submit} noValidate aria-label={`Assignments for ${department.name}`}>
          <div className="card assign-grid-card">
            {columns.length ? (
              <AssignmentGrid
                rooms={department.rooms}
                people={columns}
                ownerOf={(r) => draft.owner[key(r)]}
                charge={draft.charge}
                onRoom={onRoom}
                onCharge={(userId) => change({ ...draft, charge: userId })}
                errors={byPerson}
                chargeError={errors.charge}
              />
            ) : (
              <p className="empty">No active nurses in this department yet (Admin → Users).</p>
            )}
          </div>
          <div className="card assign-side">
            <Field label="Until" hint="End of shift; at most 24 hours ahead." error={errors.until}>
              {(p) => <input {...p} type="datetime-local" value={draft.until} onChange={(e) => change({ ...draft, until: e.target.value })} />}
            </Field>
            <p className={free.length ? 'assign-free' : 'ok'}>{free.length ? `${free.length} unassigned: ${free.join(', ')}` : 'Every room has a nurse.'}</p>
            <button type="submit" className="primary big" disabled={save.isPending}>
              Save
            </button>
            {errorCount ? <p className="error">{errorCount === 1 ? '1 field needs a correction.' : `${errorCount} fields need a correction.`}</p> : null}
          </div>
        </form>
      ) : null}
      {!mayEdit ? (
        <>
          <p className="notice">
            {chargeNow
              ? `Only the charge nurse, ${chargeNow.userName}, or a head doctor can change these assignments.`
              : `No charge nurse is on shift in ${department.name}: a nurse of the unit, a head doctor or an admin can start the shift.`}
          </p>
          <AssignmentList rooms={department.rooms} entries={entries} />
        </>
      ) : null}
    </>
  );
}
