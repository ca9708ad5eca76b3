import { useQuery } from '@tanstack/react-query';
import { type ReactNode, useEffect } from 'react';
import { useModal } from '../lib/useModal.js';
import type { AlertEvent } from '../../../server/alerts/schemas.js';
import { respondersLine } from '../components/CodeBanner.js';
import { PriorityBadge } from '../components/Priority.js';
import { errorMessage, useTRPC } from '../lib/api.js';
import type { Alert } from '../lib/alertStore.js';
import { age, dateTime, when } from '../lib/format.js';
import { attemptsInFlight } from '../people/attemptWords.js';
import { PagesList, pageEventLine } from '../people/PagesList.js';
import { overdue, until } from './urgency.js';
import { IncidentLink } from '../incident/IncidentLink.js';

const ATTEMPTS_POLL_MS = 5_000;

const why: Record<string, string> = {
  timeout: 'nobody acknowledged in time',
  manual: 'escalated by hand',
  no_response: 'no response',
  declined: 'after a decline',
  ack_timeout: 'acknowledged but not resolved in time',
};

/** A timeline line as a nurse would say it. */
function line(e: AlertEvent): string {
  const d = e.detail ?? {};
  const reason = d.reason ? String(d.reason) : '';
  switch (e.type) {
    case 'created':
      return 'Raised';
    case 'acknowledged':
      return `Acknowledged${e.alert.acknowledgedByName ? ` by ${e.alert.acknowledgedByName}` : ''}`;
    case 'escalated':
      return `Escalated to level ${e.alert.escalationLevel}${reason ? ` (${why[reason] ?? reason})` : ''}`;
    case 'declined':
      return `Declined: “${reason}”`;
    case 'reopened':
      return 'Back on the board — acknowledgement timed out';
    case 'repeated':
      return `Raised again (Repeated ×${String(d.repeatCount ?? e.alert.repeatCount)})`;
    case 'shelved':
      return `Shelved for ${String(d.minutes ?? '?')} min: “${reason}”`;
    case 'unshelved':
      return d.reason === 'expired' ? 'Back from the shelf (its time ran out)' : 'Unshelved by hand';
    case 'suppressed':
      return `Kept quiet${reason ? ` (${reason})` : ''}: nobody paged, no sound`;
    case 'responding':
      return `Responding: ${e.alert.responders.find((r) => r.userId === d.userId)?.name ?? 'someone'}`;
    case 'updated':
      return `Changed (now ${e.alert.priority.toUpperCase()}${e.alert.roomNumber ? `, room ${e.alert.roomNumber}` : ''})`;
    default:
      return pageEventLine(e) ?? e.type.charAt(0).toUpperCase() + e.type.slice(1);
  }
}

interface DetailProps {
  /** The live alert from the board's store (the dialog follows its changes). */
  alert: Alert;
  now: number;
  onClose: () => void;
  /** The tile's own action buttons, so a nurse can act without going back to the board. */
  actions?: ReactNode;
}

/**
 * The board's detail view: everything on the tile in full (the description untruncated), when the next
 * escalation comes, and the alert's timeline from alerts.getById — a native <dialog> over the board, so
 * the board stays live behind it and Escape or Close returns to it.
 */
export function AlertDetail({ alert, now, onClose, actions }: DetailProps) {
  const trpc = useTRPC();
  // While a message to a paged person is on its way, its delivery comes from the provider, not as an
  // alert event: look again every few seconds so "SMS delivered" shows without reopening.
  const open = alert.status === 'active' || alert.status === 'acknowledged' || alert.status === 'shelved';
  const q = useQuery({
    ...trpc.alerts.getById.queryOptions({ alertId: alert.id }),
    staleTime: 0,
    refetchInterval: (query) => (open && attemptsInFlight(query.state.data?.pages) ? ATTEMPTS_POLL_MS : false),
  });
  const { refetch } = q;
  const ref = useModal();
  // A new version of the alert means a new timeline event.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the version is the trigger
  useEffect(() => {
    void refetch();
  }, [alert.version, refetch]);

  const late = overdue(alert, now);
  const next = alert.status === 'active' && alert.nextEscalationAt ? until(alert.nextEscalationAt, now) : null;
  const where = [alert.roomNumber ? `Room ${alert.roomNumber}` : null, alert.departmentName, alert.alertType].filter(Boolean).join(' · ');
  return (
    <dialog ref={ref} className="details board-detail" aria-labelledby="board-detail-title" onCancel={onClose}>
      <h2 id="board-detail-title">{alert.title}</h2>
      <p className="details-summary">
        <PriorityBadge priority={alert.priority} /> <span>{where}</span>
        {alert.repeatCount > 0 ? <span className="repeated">Repeated ×{alert.repeatCount}</span> : null}
      </p>
      {alert.description ? <p className="detail-desc">{alert.description}</p> : <p className="muted">No description.</p>}
      <dl className="detail-facts">
        <dt>Status</dt>
        <dd>
          {alert.status === 'active'
            ? `Waiting for acknowledgement, ${age(alert.createdAt, now)}`
            : alert.status === 'shelved'
              ? `Shelved by ${alert.shelvedByName ?? 'someone'} until ${when(alert.shelvedUntil, now)}: “${alert.shelveReason ?? ''}”`
              : `Acknowledged by ${alert.acknowledgedByName ?? 'someone'}`}
          {late ? <strong className="detail-overdue"> — OVERDUE ({late})</strong> : null}
        </dd>
        {alert.code ? (
          <>
            <dt>Responding</dt>
            <dd>{respondersLine(alert)}</dd>
          </>
        ) : null}
        <dt>Escalation</dt>
        <dd>
          Level {alert.escalationLevel}
          {next ? (next.late ? `; next escalation due ${next.text} ago` : `; next escalation in ${next.text}`) : ''}
        </dd>
        <dt>Raised</dt>
        <dd>
          {dateTime(alert.createdAt)}
          {alert.createdByName ? ` by ${alert.createdByName}` : ''}
        </dd>
      </dl>
      {q.data?.pages.length ? <PagesList pages={q.data.pages} /> : null}
      <h3>Timeline</h3>
      <IncidentLink alertId={alert.id} />
      {q.isError ? <p role="alert">{errorMessage(q.error)}</p> : null}
      {!q.data && !q.isError ? <p>Loading…</p> : null}
      {q.data ? (
        <ol className="timeline" aria-label="Timeline">
          {q.data.events.map((e) => (
            <li key={e.id}>
              <time dateTime={e.occurredAt}>{when(e.occurredAt)}</time> <span>{line(e)}</span>
            </li>
          ))}
        </ol>
      ) : null}
      <div className="actions">
        {actions}
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </dialog>
  );
}
