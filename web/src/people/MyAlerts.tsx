import { useMemo, useRef } from 'react';
import type { AlertEvent } from '../../../server/alerts/schemas.js';
import { AlertTile } from '../board/AlertTile.js';
import { useAnnouncer } from '../board/Announcer.js';
import { RESPONDER_ROLES } from '../board/Board.js';
import { type AlertAction, useAlertAction } from '../board/useAlertAction.js';
import { useReAlert } from '../board/useReAlert.js';
import { useReceipts } from '../board/useReceipts.js';
import { useUndoableAck } from '../board/useUndoableAck.js';
import { ConnectionStatus, StaleBanner } from '../components/ConnectionStatus.js';
import { SoundControls } from '../components/SoundControls.js';
import type { Alert } from '../lib/alertStore.js';
import { age, when } from '../lib/format.js';
import type { SessionUser } from '../lib/session.js';
import { sound } from '../lib/sound.js';
import { useConnection } from '../lib/useConnection.js';
import { useNow } from '../lib/useNow.js';
import { type Page, useMyPages } from './useMyPages.js';
import './MyAlerts.css';

const shown = () => true;

/** The sound of a page to me: critical and high their own pattern, anything else the escalation fall. */
function chimePage(e: AlertEvent) {
  const p = e.alert.priority;
  sound.play(p === 'critical' || p === 'high' ? p : 'escalation');
}

/** "Paged: assigned, room 312"; the server's "named" reads "you, by name" here; blank until the page's reason is read. */
function pagedWords(page: Page): string {
  if (!page.reason) return 'Paged';
  return `Paged: ${page.target === 'user' ? 'you, by name' : page.reason}`;
}

function Why({ page, now }: { page: Page; now: number }) {
  const answer = page.response === 'declined' ? 'You declined' : page.response === 'acknowledged' ? 'You acknowledged' : null;
  return (
    <p className="mine-why">
      <span className="mine-reason">{pagedWords(page)}</span>
      <span>Level {page.level}</span>
      <span title={`Paged at ${when(page.pagedAt)}`}>{age(page.pagedAt, now)} ago</span>
      {answer ? (
        <strong className={`mine-answer mine-${page.response}`}>
          {answer}
          {page.respondedAt ? ` at ${when(page.respondedAt)}` : ''}
        </strong>
      ) : null}
    </p>
  );
}

/**
 * My alerts: the one screen a nurse or doctor keeps on a phone or workstation — the open alerts paged
 * to me (my department's or not), most urgent first, each saying why I was paged, with the board's
 * one-tap Acknowledge (held with Undo), Decline with its reasons, sound and mute. An alert I declined
 * stays at the bottom until it closes: I may still take it.
 */
export function MyAlerts({ user }: { user: SessionUser }) {
  const announcer = useAnnouncer();
  const receipts = useReceipts(shown);
  const calledRef = useRef<(id: string) => void>(() => undefined);
  const { feed, pages } = useMyPages(
    user.id,
    (e) => {
      chimePage(e);
      calledRef.current(e.alert.id);
      announcer.announce(e.alert, 'Paged to you:');
    },
    (e) => {
      receipts.onEvent(e);
      if (e.type === 'repeated') {
        sound.play(e.alert.priority === 'critical' || e.alert.priority === 'high' ? e.alert.priority : 'repeat');
        calledRef.current(e.alert.id);
      }
    },
  );
  const conn = useConnection();
  const now = useNow();
  const action = useAlertAction();
  // biome-ignore lint/correctness/useExhaustiveDependencies: revision is what changes when the store does
  const all = useMemo(() => feed.store.sortedByPriority(), [feed.revision]);
  const declined = (a: Alert) => pages.get(a.id)?.response === 'declined' && a.status === 'active';
  const ordered = [...all.filter((a) => !declined(a)), ...all.filter(declined)];
  const acks = useUndoableAck(all);
  // Held in its undo window, or declined by me: it does not keep calling me.
  const quiet = new Set([...acks.pending.keys(), ...all.filter(declined).map((a) => a.id)]);
  calledRef.current = useReAlert(all, quiet, conn.status === 'lost').called;

  const canRespond = RESPONDER_ROLES.has(user.role);
  const onAction = (a: AlertAction, alert: Alert) => (a === 'acknowledge' ? acks.acknowledge(alert) : action.ask(a, alert));
  const waiting = all.filter((a) => a.status === 'active' && !declined(a)).length;

  return (
    <main className={`board board-dark mine${conn.status === 'lost' ? ' stale' : ''}`}>
      <header className="board-head mine-head">
        <h1>My alerts</h1>
        <span className="board-count">{waiting === 1 ? '1 waiting for you' : `${waiting} waiting for you`}</span>
        <ConnectionStatus info={conn} />
        <SoundControls />
      </header>
      <StaleBanner info={conn} />
      {feed.error ? (
        <p role="alert" className="error">
          {feed.error}
        </p>
      ) : null}
      <section className="mine-list" aria-label="Alerts paged to me">
        {feed.loaded && ordered.length === 0 ? <p className="all-clear">Nothing paged to you</p> : null}
        {ordered.map((a) => {
          const page = pages.get(a.id);
          return (
            <div key={a.id} className={`mine-item${declined(a) ? ' mine-declined' : ''}`}>
              {page ? <Why page={page} now={now} /> : null}
              <AlertTile
                alert={a}
                now={now}
                canRespond={canRespond}
                canDecline={canRespond && !declined(a)}
                note={feed.store.note(a.id)}
                tileRef={receipts.tileRef}
                onAction={onAction}
                pendingAck={acks.pending.get(a.id)}
                ackError={acks.errors.get(a.id)}
                onUndo={(x) => acks.undo(x.id)}
              />
            </div>
          );
        })}
      </section>
      {action.dialog}
      {announcer.regions}
    </main>
  );
}
