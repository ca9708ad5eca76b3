import type { KeyboardEvent, MouseEvent } from 'react';
import { respondersLine } from '../components/CodeBanner.js';
import { PriorityBadge } from '../components/Priority.js';
import type { Alert, AlertNote } from '../lib/alertStore.js';
import { age, sourceLabel, when } from '../lib/format.js';
import type { AlertAction } from './useAlertAction.js';
import type { PendingAck } from './useUndoableAck.js';
import { overdue, until } from './urgency.js';

/** A tile is marked NEW for this long after the alert was raised. */
const NEW_MS = 30_000;

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
  /** The ward board's one-tap acknowledgement, held for its undo window. */
  pendingAck?: PendingAck;
  ackError?: string;
  onUndo?: (alert: Alert) => void;
  /** Opens the detail view (a tap on the tile, Enter, or its Details button). */
  onOpen?: (alert: Alert) => void;
  /** A hospital code: "Responding" (I am on my way), offered until I have said so. */
  onResponding?: (alert: Alert) => void;
  userId?: string;
}

/**
 * One alert, readable from across a room: priority (colour, word, shape), what, where, how long it has
 * waited and whether it is OVERDUE (in words, on a striped band, not by colour alone), its escalation
 * and when the next one comes, the description, and one-tap actions.
 */
export function AlertTile(props: TileProps) {
  const { alert, now, canRespond, onAction, extraActions = [], canDecline = false, note, tileRef, pendingAck, ackError, onUndo, onOpen, onResponding, userId } = props;
  const mayRespondToCode = Boolean(alert.code && onResponding && canRespond && !alert.responders.some((r) => r.userId === userId));
  const where = [alert.roomNumber ? `Room ${alert.roomNumber}` : null, alert.departmentName].filter(Boolean).join(' · ');
  const waiting = alert.status === 'active';
  const late = overdue(alert, now);
  const isNew = waiting && now - Date.parse(alert.createdAt) < NEW_MS;
  const next = waiting && alert.nextEscalationAt ? until(alert.nextEscalationAt, now) : null;
  const backIn = !waiting && alert.ackDeadlineAt ? until(alert.ackDeadlineAt, now) : null;
  const classes = ['tile', `tile-${alert.priority}`, `tile-${alert.status}`];
  if (note?.reopened) classes.push('tile-reopened');
  if (late) classes.push('tile-overdue');
  if (pendingAck) classes.push('tile-pending');
  if (onOpen) classes.push('tile-openable');

  // A tap anywhere on the tile but its buttons opens the details.
  const open = (e: MouseEvent) => {
    if (!onOpen || (e.target as HTMLElement).closest('button')) return;
    onOpen(alert);
  };
  const key = (e: KeyboardEvent) => {
    if (onOpen && e.key === 'Enter' && e.target === e.currentTarget) onOpen(alert);
  };

  return (
    <article
      ref={tileRef}
      data-alert-id={alert.id}
      tabIndex={onOpen ? 0 : undefined}
      className={classes.join(' ')}
      aria-label={`${alert.priority} alert: ${alert.title}${alert.roomNumber ? `, room ${alert.roomNumber}` : ''}${late ? ', overdue' : ''}`}
      onClick={open}
      onKeyDown={key}
    >
      <div className="tile-body">
        <div className="tile-head">
          <PriorityBadge priority={alert.priority} />
          {isNew ? <span className="tile-new">NEW</span> : null}
          <span className="tile-age" title={`Raised at ${when(alert.createdAt)}`}>
            {waiting ? <span className="tile-age-label">Waiting </span> : null}
            {age(alert.createdAt, now)}
          </span>
        </div>
        {late ? (
          <p className="tile-overdue-band">
            <strong>OVERDUE</strong> — {late}
            {next?.late ? ` ${next.text} ago` : ''}
          </p>
        ) : null}
        {note?.reopened && waiting ? <p className="tile-flag">Needs attention — acknowledgement timed out</p> : null}
        <h2 className="tile-title">{alert.title}</h2>
        <p className="tile-where">{where}</p>
        {alert.code ? <p className="tile-responders">{respondersLine(alert)}</p> : null}
        {note?.declined && waiting ? <p className="tile-declined">Declined: “{note.declined.reason}”</p> : null}
        {alert.description ? (
          <p className="tile-desc" title={alert.description}>
            {alert.description}
          </p>
        ) : null}
        <p className="tile-meta">
          {alert.repeatCount > 0 ? <span className="repeated">Repeated ×{alert.repeatCount}</span> : null}
          {alert.code ? null : <span className="tile-type">{alert.alertType}</span>}
          {sourceLabel(alert.source) ? <span className="tile-source">{sourceLabel(alert.source)}</span> : null}
          {alert.escalationLevel > 0 ? <span className="escalation">Escalation level {alert.escalationLevel}</span> : null}
          {next && !next.late ? <span className="tile-next">Next escalation in {next.text}</span> : null}
          {backIn && !backIn.late ? <span className="tile-next">Back on the board in {backIn.text} unless resolved</span> : null}
        </p>
        {alert.status === 'acknowledged' ? (
          <p className="tile-ack">
            Acknowledged by {alert.acknowledgedByName ?? 'someone'}
            {alert.acknowledgedAt ? ` at ${when(alert.acknowledgedAt)}` : ''}
          </p>
        ) : alert.status === 'shelved' ? (
          <p className="tile-ack">
            Shelved by {alert.shelvedByName ?? 'someone'} until {when(alert.shelvedUntil, now)}
          </p>
        ) : (
          <p className="tile-ack tile-waiting">Waiting for acknowledgement</p>
        )}
        {ackError ? (
          <p className="tile-error" role="alert">
            {ackError}
          </p>
        ) : null}
      </div>
      {pendingAck && waiting ? (
        <div className="tile-actions tile-undo" role="status">
          <span>{pendingAck.sending ? 'Acknowledging…' : `Acknowledging in ${Math.max(1, Math.ceil((pendingAck.sendAt - now) / 1000))} s`}</span>
          {!pendingAck.sending && onUndo ? (
            <button type="button" className="primary" onClick={() => onUndo(alert)}>
              Undo
            </button>
          ) : null}
        </div>
      ) : canRespond || extraActions.length || onOpen ? (
        <div className="tile-actions">
          {mayRespondToCode ? (
            <button type="button" className="primary" onClick={() => onResponding?.(alert)}>
              Responding
            </button>
          ) : null}
          {canRespond && waiting ? (
            <button type="button" className="primary" onClick={() => onAction('acknowledge', alert)}>
              Acknowledge
            </button>
          ) : null}
          {canRespond && canDecline && waiting && !alert.code ? (
            <button type="button" className="tile-decline" onClick={() => onAction('decline', alert)}>
              Decline
            </button>
          ) : null}
          {canRespond ? (
            <button type="button" className="tile-resolve" onClick={() => onAction('resolve', alert)}>
              Resolve
            </button>
          ) : null}
          {extraActions.map((a) => (
            <button key={a} type="button" onClick={() => onAction(a, alert)}>
              {a === 'escalate' ? 'Escalate' : a === 'cancel' ? 'Cancel alert' : a}
            </button>
          ))}
          {onOpen ? (
            <button type="button" className="tile-details" onClick={() => onOpen(alert)} aria-label={`Details of ${alert.title}`}>
              Details
            </button>
          ) : null}
        </div>
      ) : null}
    </article>
  );
}
