import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import type { ListAlertsInput } from '../../../server/alerts/schemas.js';
import { Field } from '../components/Field.js';
import { PriorityBadge } from '../components/Priority.js';
import { errorMessage, useTRPC } from '../lib/api.js';
import { dayInputToIso, priorityLabel, statusLabel, typeLabel, when } from '../lib/format.js';
import { AlertDetails } from './AlertDetails.js';

const PAGE = 20;
const EMPTY = { search: '', status: '', priority: '', departmentId: '', from: '', to: '', order: 'newest' };
type Filters = typeof EMPTY;

function toInput(f: Filters, cursor: string | undefined): ListAlertsInput {
  return {
    limit: PAGE,
    search: f.search.trim() || undefined,
    status: f.status ? [f.status as NonNullable<ListAlertsInput['status']>[number]] : undefined,
    priority: f.priority ? [f.priority as NonNullable<ListAlertsInput['priority']>[number]] : undefined,
    departmentId: f.departmentId || undefined,
    from: dayInputToIso(f.from),
    to: dayInputToIso(f.to, true),
    order: f.order === 'oldest' ? 'oldest' : 'newest',
    cursor,
  };
}

/**
 * Every alert of the hospital, past and present (alerts.list): search, filter by status, priority,
 * department and day, newest or oldest first, a page at a time; Details opens the timeline, where an
 * open alert can be corrected.
 */
export function AlertHistory({ now }: { now: number }) {
  const trpc = useTRPC();
  const departments = useQuery(trpc.hospitals.getDepartments.queryOptions());
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  // The cursors of the pages before this one: Previous pops, Next pushes.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [details, setDetails] = useState<string | null>(null);
  const cursor = cursors[cursors.length - 1];
  const list = useQuery({ ...trpc.alerts.list.queryOptions(toInput(applied, cursor)), placeholderData: keepPreviousData });
  const set = (k: keyof Filters) => (e: { target: { value: string } }) => setDraft({ ...draft, [k]: e.target.value });
  const apply = (e?: FormEvent) => {
    e?.preventDefault();
    setApplied(draft);
    setCursors([undefined]);
  };
  const reset = () => {
    setDraft(EMPTY);
    setApplied(EMPTY);
    setCursors([undefined]);
  };
  const rows = list.data?.alerts ?? [];
  const badRange = draft.from && draft.to && draft.from > draft.to;
  return (
    <section className="card history" aria-labelledby="history-title">
      <h2 id="history-title" className="card-title">
        Alert history
      </h2>
      <form className="filters history-filters" aria-label="Filter alert history" onSubmit={apply}>
        <Field label="Search alerts">{(p) => <input {...p} type="search" value={draft.search} onChange={set('search')} maxLength={100} placeholder="Title, room or description" />}</Field>
        <Field label="Status">
          {(p) => (
            <select {...p} value={draft.status} onChange={set('status')}>
              <option value="">Any status</option>
              {Object.entries(statusLabel).map(([v, l]) => (
                <option key={v} value={v}>
                  {l}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Priority">
          {(p) => (
            <select {...p} value={draft.priority} onChange={set('priority')}>
              <option value="">Any priority</option>
              {Object.entries(priorityLabel).map(([v, l]) => (
                <option key={v} value={v}>
                  {l}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Department">
          {(p) => (
            <select {...p} value={draft.departmentId} onChange={set('departmentId')}>
              <option value="">All departments</option>
              {(departments.data ?? []).map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Raised from">{(p) => <input {...p} type="date" value={draft.from} onChange={set('from')} />}</Field>
        <Field label="Raised to" error={badRange ? 'Must be on or after the start day' : undefined}>
          {(p) => <input {...p} type="date" value={draft.to} onChange={set('to')} />}
        </Field>
        <Field label="Sort">
          {(p) => (
            <select {...p} value={draft.order} onChange={set('order')}>
              <option value="newest">Newest first</option>
              <option value="oldest">Oldest first</option>
            </select>
          )}
        </Field>
        <div className="actions">
          <button type="submit" className="primary" disabled={Boolean(badRange)}>
            Show alerts
          </button>
          <button type="button" onClick={reset}>
            Clear filters
          </button>
        </div>
      </form>
      {list.isError ? <p role="alert">{errorMessage(list.error)}</p> : null}
      {list.isPending ? (
        <p className="empty" role="status">
          Loading alert history…
        </p>
      ) : rows.length === 0 ? (
        <p className="empty">No alerts match these filters.</p>
      ) : (
        <table className="stack-table" aria-label="Alert history">
          <thead>
            <tr>
              <th scope="col">Raised</th>
              <th scope="col">Priority</th>
              <th scope="col">Alert</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody aria-busy={list.isFetching}>
            {rows.map((a) => (
              <tr key={a.id} className={`row-${a.status}`}>
                <td data-label="Raised">
                  <time dateTime={a.createdAt}>{when(a.createdAt, now)}</time>
                </td>
                <td data-label="Priority">
                  <PriorityBadge priority={a.priority} />
                </td>
                <td data-label="Alert">
                  <strong>{a.title}</strong>
                  <div className="muted">{[a.roomNumber ? `Room ${a.roomNumber}` : null, a.departmentName, typeLabel(a.alertType)].filter(Boolean).join(' · ')}</div>
                </td>
                <td data-label="Status">
                  <span className={`status status-${a.status}`}>{statusLabel[a.status] ?? a.status}</span>
                  {a.escalationLevel > 0 ? <div className="level">Level {a.escalationLevel}</div> : null}
                </td>
                <td className="row-actions">
                  <button type="button" onClick={() => setDetails(a.id)} aria-label={`Details of ${a.title}`}>
                    Details
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="pager">
        <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          Previous page
        </button>
        <span>Page {cursors.length}</span>
        <button type="button" disabled={!list.data?.nextCursor} onClick={() => setCursors([...cursors, list.data?.nextCursor ?? undefined])}>
          Next page
        </button>
      </div>
      {details ? <AlertDetails alertId={details} mayCorrect onClose={() => setDetails(null)} /> : null}
    </section>
  );
}
