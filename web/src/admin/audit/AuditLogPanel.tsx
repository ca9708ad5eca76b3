import { useInfiniteQuery } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Field } from '../../components/Field.js';
import { client, errorMessage } from '../../lib/api.js';
import { dateTime } from '../../lib/format.js';

const EMPTY = { action: '', resource: '', outcome: '', from: '', to: '' };
const toIso = (local: string) => (local ? new Date(local).toISOString() : undefined);

/** The audit log, newest first, with filters and keyset paging ("Load more", never page numbers). */
export function AuditLogPanel() {
  const [draft, setDraft] = useState(EMPTY);
  const [applied, setApplied] = useState(EMPTY);
  const input = {
    action: applied.action.trim() || undefined,
    resource: applied.resource.trim() || undefined,
    outcome: (applied.outcome || undefined) as 'success' | 'failure' | undefined,
    from: toIso(applied.from),
    to: toIso(applied.to),
    limit: 50,
  };
  // Plain useInfiniteQuery over the client: getLogs' input is strict, and the adapter's infinite
  // options would add a `direction` field to it.
  const logs = useInfiniteQuery({
    queryKey: ['audit.getLogs', input],
    queryFn: ({ pageParam }) => client.audit.getLogs.query({ ...input, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const rows = logs.data?.pages.flatMap((p) => p.logs) ?? [];
  const set = (k: keyof typeof EMPTY) => (e: { target: { value: string } }) => setDraft({ ...draft, [k]: e.target.value });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setApplied(draft);
  };

  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <form className="filters" onSubmit={submit}>
        <Field label="Action">{(p) => <input {...p} value={draft.action} onChange={set('action')} placeholder="e.g. alert.acknowledged" />}</Field>
        <Field label="Resource">{(p) => <input {...p} value={draft.resource} onChange={set('resource')} placeholder="e.g. alert" />}</Field>
        <Field label="Outcome">
          {(p) => (
            <select {...p} value={draft.outcome} onChange={set('outcome')}>
              <option value="">Any</option>
              <option value="success">Success</option>
              <option value="failure">Failure</option>
            </select>
          )}
        </Field>
        <Field label="From">{(p) => <input {...p} type="datetime-local" value={draft.from} onChange={set('from')} />}</Field>
        <Field label="To">{(p) => <input {...p} type="datetime-local" value={draft.to} onChange={set('to')} />}</Field>
        <button type="submit" className="primary">
          Apply filters
        </button>
      </form>
      {logs.isError ? <p role="alert">{errorMessage(logs.error)}</p> : null}
      <table className="data">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">User</th>
            <th scope="col">Action</th>
            <th scope="col">Resource</th>
            <th scope="col">Outcome</th>
            <th scope="col">IP</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id} className={r.outcome === 'failure' ? 'row-failure' : undefined}>
              <td>{dateTime(r.timestamp)}</td>
              <td>{r.userName ?? (r.userId ? r.userId.slice(0, 8) : 'system')}</td>
              <td>
                <code>{r.action}</code>
              </td>
              <td>{r.resource ? `${r.resource}${r.resourceId ? ` ${r.resourceId.slice(0, 8)}…` : ''}` : '—'}</td>
              <td>{r.outcome}</td>
              <td>{r.ipAddress ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">{rows.length} entries shown</p>
      {logs.hasNextPage ? (
        <button type="button" onClick={() => void logs.fetchNextPage()} disabled={logs.isFetchingNextPage}>
          Load more
        </button>
      ) : logs.isSuccess ? (
        <p className="muted">End of log</p>
      ) : null}
    </section>
  );
}
