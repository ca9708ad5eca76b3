import { useMemo, useState } from 'react';
import { useAlertAction } from '../board/useAlertAction.js';
import { respondersLine } from '../components/CodeBanner.js';
import { PriorityBadge } from '../components/Priority.js';
import { OPEN_STATUSES } from '../lib/alertStore.js';
import { age, sourceLabel, statusLabel, typeLabel, when } from '../lib/format.js';
import type { SessionUser } from '../lib/session.js';
import type { Feed } from '../lib/useAlertFeed.js';
import { AlertDetails } from './AlertDetails.js';
import { Delivery } from './Delivery.js';
import { useReceiptSummary } from './useReceiptSummary.js';

/** The recent alerts with their live status: who acknowledged and when, how far it has escalated. */
export function RecentAlerts({ feed, user, now }: { feed: Feed; user: SessionUser; now: number }) {
  const action = useAlertAction();
  // biome-ignore lint/correctness/useExhaustiveDependencies: revision is what changes when the store does
  const alerts = useMemo(() => feed.store.sortedByNewest(), [feed.revision]);
  const receipts = useReceiptSummary(alerts);
  const [details, setDetails] = useState<string | null>(null);
  const mayCancel = (createdBy: string | null) => user.role === 'admin' || user.role === 'head_doctor' || createdBy === user.id;
  return (
    <section className="card recent" aria-labelledby="recent-title">
      <h2 id="recent-title" className="card-title">Recent alerts</h2>
      <table className="stack-table">
        <thead>
          <tr>
            <th scope="col">Priority</th>
            <th scope="col">Alert</th>
            <th scope="col">Status</th>
            <th scope="col">Delivery</th>
            <th scope="col">Raised</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {alerts.map((a) => (
            <tr key={a.id} className={`row-${a.status}`}>
              <td data-label="Priority">
                <PriorityBadge priority={a.priority} />
              </td>
              <td data-label="Alert">
                <strong>{a.title}</strong>
                <div className="muted">
                  {[a.roomNumber ? `Room ${a.roomNumber}` : null, a.departmentName, typeLabel(a.alertType), sourceLabel(a.source)].filter(Boolean).join(' · ')}
                </div>
              </td>
              <td data-label="Status">
                <span className={`status status-${a.status}`}>{statusLabel[a.status] ?? a.status}</span>
                {a.escalationLevel > 0 ? <div className="level">Level {a.escalationLevel}</div> : null}
                {a.status === 'acknowledged' && a.acknowledgedByName ? (
                  <div className="muted">
                    by {a.acknowledgedByName}
                    {a.acknowledgedAt ? ` at ${when(a.acknowledgedAt, now)}` : ''}
                  </div>
                ) : null}
                {a.code ? <div className="responders">{respondersLine(a)}</div> : null}
                {a.status === 'shelved' ? (
                  <div className="muted">
                    by {a.shelvedByName ?? 'someone'} until {when(a.shelvedUntil, now)}: “{a.shelveReason}”
                  </div>
                ) : null}
                {a.status === 'resolved' && a.resolvedByName ? (
                  <div className="muted">
                    by {a.resolvedByName}
                    {a.resolvedAt ? ` at ${when(a.resolvedAt, now)}` : ''}
                  </div>
                ) : null}
              </td>
              <td data-label="Delivery">
                <Delivery alert={a} summary={receipts.get(a.id)} now={now} />
              </td>
              <td data-label="Raised">
                {when(a.createdAt, now)}
                {OPEN_STATUSES.has(a.status) ? <div className="muted">{age(a.createdAt, now)} ago</div> : null}
              </td>
              <td className="row-actions">
                <button type="button" onClick={() => setDetails(a.id)} aria-label={`Details of ${a.title}`}>
                  Details
                </button>
                {OPEN_STATUSES.has(a.status) && mayCancel(a.createdBy) ? (
                  <button type="button" onClick={() => action.ask('cancel', a)} aria-label={`Cancel alert ${a.title}`}>
                    Cancel alert
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!feed.loaded ? <p className="empty" role="status">Loading alerts…</p> : null}
      {feed.loaded && alerts.length === 0 ? <p className="empty">No recent alerts. Alerts you raise appear here with their delivery and status.</p> : null}
      {action.dialog}
      {details ? <AlertDetails alertId={details} mayCorrect onClose={() => setDetails(null)} /> : null}
    </section>
  );
}
