import { useMemo } from 'react';
import type { AlertEvent } from '../../../server/alerts/schemas.js';
import { AlertTile } from '../board/AlertTile.js';
import { useAlertAction } from '../board/useAlertAction.js';
import { useReceipts } from '../board/useReceipts.js';
import { CodeBanner } from '../components/CodeBanner.js';
import { ConnectionStatus, StaleBanner } from '../components/ConnectionStatus.js';
import { SoundControls } from '../components/SoundControls.js';
import { useSession } from '../lib/session.js';
import { sound } from '../lib/sound.js';
import { useAlertFeed } from '../lib/useAlertFeed.js';
import { useConnection } from '../lib/useConnection.js';
import { useNow } from '../lib/useNow.js';

// This view shows (and so confirms delivery of) escalated alerts only.
const escalated = (a: { escalationLevel: number }) => a.escalationLevel >= 1;

function chimeFor(event: AlertEvent) {
  if (event.type === 'escalated') sound.play('escalation');
  else if (event.type === 'created' && event.alert.code) sound.play('code'); // a code overrides mute here too
}

/** The head doctor's view: every open alert of the hospital that has escalated (level ≥ 1), live. */
export function Escalations() {
  const receipts = useReceipts(escalated);
  const feed = useAlertFeed({
    onEvent: (e) => {
      receipts.onEvent(e);
      chimeFor(e);
    },
    onSnapshot: receipts.onSnapshot,
  });
  const conn = useConnection();
  const { user } = useSession();
  const now = useNow();
  const action = useAlertAction();
  // Highest level first, then priority order as on the board.
  // biome-ignore lint/correctness/useExhaustiveDependencies: revision is what changes when the store does
  const alerts = useMemo(
    () =>
      feed.store
        .sortedByPriority()
        .filter(escalated)
        .sort((a, b) => b.escalationLevel - a.escalationLevel),
    [feed.revision],
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: revision is what changes when the store does
  const codes = useMemo(() => feed.store.sortedByPriority().filter((a) => a.code !== null), [feed.revision]);
  return (
    <main className={`board${conn.status === 'lost' ? ' stale' : ''}`}>
      <header className="board-head">
        <h1>Escalations</h1>
        <span className="board-count" aria-live="polite">
          {alerts.length} escalated
        </span>
        <ConnectionStatus info={conn} />
        <SoundControls />
      </header>
      {user ? <CodeBanner codes={codes} user={user} /> : null}
      <StaleBanner info={conn} />
      <section className="tiles" aria-label="Escalated alerts">
        {feed.loaded && alerts.length === 0 ? <p className="all-clear">No escalated alerts</p> : null}
        {alerts.map((a) => (
          <AlertTile
            key={a.id}
            alert={a}
            now={now}
            canRespond
            note={feed.store.note(a.id)}
            tileRef={receipts.tileRef}
            onAction={action.ask}
            extraActions={['escalate']}
          />
        ))}
      </section>
      {action.dialog}
    </main>
  );
}
