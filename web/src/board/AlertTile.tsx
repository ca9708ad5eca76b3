import { PriorityBadge } from '../components/Priority.js';
import type { Alert, AlertNote } from '../lib/alertStore.js';
import { age, clock } from '../lib/format.js';
import type { AlertAction } from './useAlertAction.js';

interface TileProps {
  alert: Alert;
  now: number;
  canRespond: boolean;
  onAction: (action: AlertAction, alert: Alert) => void;
  extraActions?: AlertAction[];
  /** Nurses and doctors may say "cannot take it". */
  canDecline?: boolean;
  note?: AlertNote;
  /** Observed for "seen" receipts. */
  tileRef?: (el: HTMLElement | null) => void;
}

/** One alert, readable from across a room: priority (colour, word, shape), what, where, how long. */
export function AlertTile({ alert, now, canRespond, onAction, extraActions = [], canDecline = false, note, tileRef }: TileProps) {
  const where = [alert.roomNumber ? `Room ${alert.roomNumber}` : null, alert.departmentName].filter(Boolean).join(' · ');
  return (
    <article
      ref={tileRef}
      data-alert-id={alert.id}
      className={`tile tile-${alert.priority} tile-${alert.status}${note?.reopened ? ' tile-reopened' : ''}`}
      aria-label={`${alert.priority} alert: ${alert.title}${alert.roomNumber ? `, room ${alert.roomNumber}` : ''}`}>
      <div className="tile-head">
        <PriorityBadge priority={alert.priority} />
        <span className="tile-age" title={`Raised at ${clock(alert.createdAt)}`}>
          {age(alert.createdAt, now)}
        </span>
      </div>
      {note?.reopened && alert.status === 'active' ? <p className="tile-flag">Needs attention — acknowledgement timed out</p> : null}
      <h2 className="tile-title">{alert.title}</h2>
      <p className="tile-where">{where}</p>
      <p className="tile-meta">
        <span className="tile-type">{alert.alertType}</span>
        {alert.escalationLevel > 0 ? <span className="escalation">Escalation level {alert.escalationLevel}</span> : null}
        {alert.repeatCount > 0 ? <span className="repeated">Repeated ×{alert.repeatCount}</span> : null}
      </p>
      {note?.declined && alert.status === 'active' ? <p className="tile-declined">Declined: “{note.declined.reason}”</p> : null}
      {alert.status === 'acknowledged' ? (
        <p className="tile-ack">
          Acknowledged by {alert.acknowledgedByName ?? 'someone'}
          {alert.acknowledgedAt ? ` at ${clock(alert.acknowledgedAt)}` : ''}
        </p>
      ) : (
        <p className="tile-ack tile-waiting">Waiting for acknowledgement</p>
      )}
      {canRespond || extraActions.length ? (
        <div className="tile-actions">
          {canRespond && alert.status === 'active' ? (
            <button type="button" className="primary" onClick={() => onAction('acknowledge', alert)}>
              Acknowledge
            </button>
          ) : null}
          {canRespond && canDecline && alert.status === 'active' ? (
            <button type="button" onClick={() => onAction('decline', alert)}>
              Decline
            </button>
          ) : null}
          {canRespond ? (
            <button type="button" onClick={() => onAction('resolve', alert)}>
              Resolve
            </button>
          ) : null}
          {extraActions.map((a) => (
            <button key={a} type="button" onClick={() => onAction(a, alert)}>
              {a === 'escalate' ? 'Escalate' : a === 'cancel' ? 'Cancel alert' : a}
            </button>
          ))}
        </div>
      ) : null}
    </article>
  );
}
