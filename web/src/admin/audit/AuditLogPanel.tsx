import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { type FormEvent, Fragment, useState } from 'react';
import type { AuditLogRow as ServerRow } from '../../../../server/audit/schemas.js';
import { Field } from '../../components/Field.js';
import { client, errorMessage, useTRPC } from '../../lib/api.js';
import { dateTime } from '../../lib/format.js';
import { auditActionGroups, reasonText } from './actions.js';
import { CopyId } from './CopyId.js';

// metadata is `unknown`, so the wire type marks it optional.
type AuditLogRow = Omit<ServerRow, 'metadata'> & { metadata?: unknown };

const EMPTY = { action: '', otherAction: '', resource: '', outcome: '', userId: '', from: '', to: '' };
const toIso = (local: string) => (local ? new Date(local).toISOString() : undefined);

/** The audit log, newest first, with filters and keyset paging ("Load more", never page numbers); a row opens its detail. */
export function AuditLogPanel() {
  const trpc = useTRPC();
  const [draft, setDraft] = useState(EMPTY);
  const [applied, setApplied] = useState(EMPTY);
  const [open, setOpen] = useState<string | null>(null);
  // The user filter lists the hospital's people by name (the first 100, enough for a filter).
  const users = useQuery(trpc.users.getAll.queryOptions({ page: 1, limit: 100 }));
  const action = applied.otherAction.trim() || applied.action;
  const input = {
    action: action || undefined,
    resource: applied.resource.trim() || undefined,
    outcome: (applied.outcome || undefined) as 'success' | 'failure' | undefined,
    userId: applied.userId || undefined,
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
  const badRange = draft.from && draft.to && draft.from > draft.to;

  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <form className="filters" onSubmit={submit} aria-label="Filter the audit log">
        <Field label="Action">
          {(p) => (
            <select {...p} value={draft.action} onChange={set('action')}>
              <option value="">Any action</option>
              {auditActionGroups.map(([group, actions]) => (
                <optgroup key={group} label={group}>
                  {actions.map((a) => (
                    <option key={a} value={a}>
                      {a}
                    </option>
                  ))}
                </optgroup>
              ))}
            </select>
          )}
        </Field>
        <Field label="Other action">{(p) => <input {...p} value={draft.otherAction} onChange={set('otherAction')} maxLength={100} placeholder="e.g. alert.acknowledged" />}</Field>
        <Field label="User">
          {(p) => (
            <select {...p} value={draft.userId} onChange={set('userId')}>
              <option value="">Anyone</option>
              {(users.data?.users ?? []).map((u) => (
                <option key={u.id} value={u.id}>
                  {u.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Resource">{(p) => <input {...p} value={draft.resource} onChange={set('resource')} maxLength={100} placeholder="e.g. alert" />}</Field>
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
        <Field label="To" error={badRange ? 'Must not be before "From"' : undefined}>
          {(p) => <input {...p} type="datetime-local" value={draft.to} onChange={set('to')} />}
        </Field>
        <button type="submit" className="primary" disabled={Boolean(badRange)}>
          Apply filters
        </button>
      </form>
      {logs.isError ? <p role="alert">{errorMessage(logs.error)}</p> : null}
      <div className="table-scroll">
        <table className="data stack-table">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">User</th>
              <th scope="col">Action</th>
              <th scope="col">Resource</th>
              <th scope="col">Outcome</th>
              <th scope="col">IP</th>
              <th scope="col">
                <span className="sr-only">Detail</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <Fragment key={r.id}>
                <tr className={r.outcome === 'failure' ? 'row-failure' : undefined}>
                  <td data-label="Time">{dateTime(r.timestamp)}</td>
                  <td data-label="User">{r.userName ?? (r.userId ? 'unknown user' : 'system')}</td>
                  <td data-label="Action">
                    <code>{r.action}</code>
                    {reason(r) ? <div className="muted">{reason(r)}</div> : null}
                  </td>
                  <td data-label="Resource">{r.resource ? <ResourceCell row={r} /> : '—'}</td>
                  <td data-label="Outcome">{r.outcome}</td>
                  <td data-label="IP">{r.ipAddress ?? '—'}</td>
                  <td>
                    <button type="button" aria-expanded={open === r.id} onClick={() => setOpen(open === r.id ? null : r.id)} aria-label={`Detail of ${r.action} at ${dateTime(r.timestamp)}`}>
                      Detail
                    </button>
                  </td>
                </tr>
                {open === r.id ? (
                  <tr className="audit-detail">
                    <td colSpan={7}>
                      <RowDetail row={r} />
                    </td>
                  </tr>
                ) : null}
              </Fragment>
            ))}
          </tbody>
        </table>
      </div>
      {logs.isPending ? (
        <p className="empty" role="status">
          Loading the audit log…
        </p>
      ) : rows.length === 0 && logs.isSuccess ? (
        <p className="empty">No audit entries match these filters.</p>
      ) : (
        <p className="muted">{rows.length} entries shown</p>
      )}
      {logs.hasNextPage ? (
        <button type="button" onClick={() => void logs.fetchNextPage()} disabled={logs.isFetchingNextPage}>
          Load more
        </button>
      ) : logs.isSuccess && rows.length ? (
        <p className="muted">End of log</p>
      ) : null}
    </section>
  );
}

const meta = (r: AuditLogRow) => (r.metadata && typeof r.metadata === 'object' ? (r.metadata as Record<string, unknown>) : {});
/** Why it failed or was declined, in words: the failed-login reason, the decline reason. */
const reason = (r: AuditLogRow) => reasonText(meta(r).reason);

function ResourceCell({ row: r }: { row: AuditLogRow }) {
  return (
    <>
      {r.resource}
      {r.resourceId ? (
        <div>
          <CopyId id={r.resourceId} label={`${r.resource} id`} />
        </div>
      ) : null}
    </>
  );
}

function RowDetail({ row: r }: { row: AuditLogRow }) {
  const facts: [string, string | null][] = [
    ['Time', `${dateTime(r.timestamp)} (${r.timestamp})`],
    ['User id', r.userId],
    ['Session', r.sessionId],
    ['Browser', r.userAgent],
    ['Sequence', r.seq],
    ['Row hash', r.hash],
  ];
  return (
    <div className="audit-row-detail">
      <dl className="detail-facts">
        {facts.map(([k, v]) =>
          v ? (
            <Fragment key={k}>
              <dt>{k}</dt>
              <dd>{k === 'User id' || k === 'Session' ? <CopyId id={v} label={k} /> : <code>{v}</code>}</dd>
            </Fragment>
          ) : null,
        )}
      </dl>
      <h2 className="audit-meta-title">Metadata</h2>
      {r.metadata === null || r.metadata === undefined ? <p className="muted">None</p> : <pre className="audit-meta">{JSON.stringify(r.metadata, null, 2)}</pre>}
    </div>
  );
}
