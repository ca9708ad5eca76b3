import { useQuery } from '@tanstack/react-query';
import type { AlertEvent } from '../../../server/alerts/schemas.js';
import { PriorityBadge } from '../components/Priority.js';
import { errorMessage, useTRPC } from '../lib/api.js';
import { OPEN_STATUSES } from '../lib/alertStore.js';
import { useModal } from '../lib/useModal.js';
import { dateTime, statusLabel, typeLabel, when } from '../lib/format.js';
import { PagesList, pageEventLine } from '../people/PagesList.js';
import { CorrectAlert } from './CorrectAlert.js';
import { IncidentLink } from '../incident/IncidentLink.js';

const POLL_MS = 3_000;

const escalationReason: Record<string, string> = {
  timeout: 'not acknowledged in time',
  manual: 'by hand',
  no_response: 'no response',
  declined: 'after a decline',
  ack_timeout: 'acknowledgement timed out',
};

/** One line of the timeline, in words. */
function describe(e: AlertEvent): string {
  const d = e.detail ?? {};
  switch (e.type) {
    case 'created':
      return 'Raised';
    case 'acknowledged':
      return 'Acknowledged';
    case 'escalated':
      return `Escalated to level ${e.alert.escalationLevel}${d.reason ? ` (${escalationReason[String(d.reason)] ?? String(d.reason)})` : ''}`;
    case 'declined':
      return `Declined: “${String(d.reason ?? '')}”`;
    case 'reopened':
      return 'Back on the board — acknowledgement timed out';
    case 'repeated':
      return `Raised again — repeat #${String(d.repeatCount ?? '?')}`;
    default:
      return pageEventLine(e) ?? e.type.charAt(0).toUpperCase() + e.type.slice(1);
  }
}

/**
 * An alert's timeline (events with their detail, escalations) and its delivery receipts, per screen:
 * who it reached and who saw it. Refreshed while open. A native <dialog>: Escape closes, focus returns.
 */
export function AlertDetails({ alertId, onClose, mayCorrect = false }: { alertId: string; onClose: () => void; mayCorrect?: boolean }) {
  const trpc = useTRPC();
  const q = useQuery({ ...trpc.alerts.getById.queryOptions({ alertId }), refetchInterval: POLL_MS, staleTime: 0 });
  const ref = useModal();

  const d = q.data;
  // Names of the people involved, from what the answer already carries (events hold the alert as it was).
  const names = new Map<string, string>();
  for (const r of d?.receipts ?? []) names.set(r.userId, r.userName);
  for (const e of d?.events ?? []) {
    const a = e.alert;
    if (a.createdBy && a.createdByName) names.set(a.createdBy, a.createdByName);
    if (a.acknowledgedBy && a.acknowledgedByName) names.set(a.acknowledgedBy, a.acknowledgedByName);
    if (a.resolvedBy && a.resolvedByName) names.set(a.resolvedBy, a.resolvedByName);
  }

  return (
    <dialog ref={ref} className="details" aria-labelledby="details-title" onCancel={onClose}>
      <h2 id="details-title">Alert timeline{d ? `: ${d.alert.title}` : ''}</h2>
      {q.isError ? <p role="alert">{errorMessage(q.error)}</p> : null}
      {!d && !q.isError ? <p>Loading…</p> : null}
      {d ? (
        <>
          <p className="details-summary">
            <PriorityBadge priority={d.alert.priority} /> {[d.alert.roomNumber ? `Room ${d.alert.roomNumber}` : null, d.alert.departmentName, typeLabel(d.alert.alertType), statusLabel[d.alert.status]].filter(Boolean).join(' · ')}
            {d.alert.repeatCount > 0 ? ` · repeated ×${d.alert.repeatCount}` : ''}
          </p>
          {d.alert.description ? <p className="detail-desc">{d.alert.description}</p> : null}
          {OPEN_STATUSES.has(d.alert.status) && mayCorrect ? (
            <>
              <h3>Correct this alert</h3>
              <CorrectAlert alert={d.alert} onSaved={() => void q.refetch()} />
            </>
          ) : null}
          <h3>Timeline</h3>
          <IncidentLink alertId={d.alert.id} />
          <ol className="timeline" aria-label="Timeline">
            {d.events.map((e) => (
              <li key={e.id}>
                <time dateTime={e.occurredAt}>{when(e.occurredAt)}</time> <span>{describe(e)}</span>
                {e.actorId ? <span className="muted"> — {names.get(e.actorId) ?? 'a user'}</span> : e.type === 'created' ? null : <span className="muted"> — system</span>}
              </li>
            ))}
          </ol>
          <h3>People paged</h3>
          {d.pages.length ? <PagesList pages={d.pages} /> : <p className="muted">Nobody was paged (screens only).</p>}
          <h3>Screens</h3>
          {d.receipts.length ? (
            <div className="table-scroll">
            <table className="data">
              <caption className="sr-only">Delivery receipts</caption>
              <thead>
                <tr>
                  <th scope="col">Screen of</th>
                  <th scope="col">Delivered</th>
                  <th scope="col">Seen</th>
                </tr>
              </thead>
              <tbody>
                {d.receipts.map((r) => (
                  <tr key={r.sessionId}>
                    <td>{r.userName}</td>
                    <td>{when(r.deliveredAt)}</td>
                    <td>{r.seenAt ? when(r.seenAt) : 'Not yet'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            </div>
          ) : (
            <p className="flag-undelivered">Not delivered to any screen yet.</p>
          )}
          <p className="muted">Raised {dateTime(d.alert.createdAt)}</p>
        </>
      ) : null}
      <div className="actions">
        <button type="button" className="primary" onClick={onClose}>
          Close
        </button>
      </div>
    </dialog>
  );
}
