import { useMemo } from 'react';
import type { AlertEvent } from '../../../server/alerts/schemas.js';
import { ConnectionStatus, StaleBanner } from '../components/ConnectionStatus.js';
import { SoundControls } from '../components/SoundControls.js';
import { clock } from '../lib/format.js';
import type { SessionUser } from '../lib/session.js';
import { sound } from '../lib/sound.js';
import { useAlertFeed } from '../lib/useAlertFeed.js';
import { useConnection } from '../lib/useConnection.js';
import { useNow } from '../lib/useNow.js';
import { AlertTile } from './AlertTile.js';
import { useAlertAction } from './useAlertAction.js';
import { useReceipts } from './useReceipts.js';

export const RESPONDER_ROLES: ReadonlySet<string> = new Set(['nurse', 'doctor', 'head_doctor', 'admin']);
const DECLINER_ROLES: ReadonlySet<string> = new Set(['nurse', 'doctor']);
const everyAlert = () => true;

/**
 * New critical and high alerts chime (distinct per priority); the rest arrive silently. A repeat — the
 * same emergency raised again, acknowledged or not — always chimes: someone is calling again.
 */
function chimeFor(event: AlertEvent) {
  if (event.type !== 'created' && event.type !== 'repeated') return;
  if (event.alert.priority === 'critical') sound.play('critical');
  else if (event.alert.priority === 'high') sound.play('high');
  else if (event.type === 'repeated') sound.play('repeat');
}

/** The ward board: a wall screen of open alerts, live, that says plainly when it is stale. */
export function Board({ user }: { user: SessionUser }) {
  const receipts = useReceipts(everyAlert);
  const feed = useAlertFeed({
    onEvent: (e) => {
      receipts.onEvent(e);
      chimeFor(e);
    },
    onSnapshot: receipts.onSnapshot,
  });
  const conn = useConnection();
  const now = useNow();
  const action = useAlertAction();
  // biome-ignore lint/correctness/useExhaustiveDependencies: revision is what changes when the store does
  const alerts = useMemo(() => feed.store.sortedByPriority(), [feed.revision]);
  const scope = user.role === 'nurse' || user.role === 'doctor' ? (user.departmentName ?? 'Department') : 'All departments';
  const open = alerts.filter((a) => a.status === 'active').length;

  const fullscreen = () => {
    if (document.fullscreenElement) void document.exitFullscreen();
    else void document.documentElement.requestFullscreen?.().catch(() => undefined);
  };

  return (
    <main className={`board${conn.status === 'lost' ? ' stale' : ''}`}>
      <header className="board-head">
        <h1>{scope} board</h1>
        <span className="board-count" aria-live="polite">
          {open} waiting · {alerts.length - open} acknowledged
        </span>
        <span className="board-clock" aria-hidden="true">
          {clock(now)}
        </span>
        <ConnectionStatus info={conn} />
        <SoundControls />
        <button type="button" onClick={fullscreen}>
          Full screen
        </button>
      </header>
      <StaleBanner info={conn} />
      {feed.error ? (
        <p role="alert" className="error">
          {feed.error}
        </p>
      ) : null}
      <section className="tiles" aria-label="Open alerts">
        {feed.loaded && alerts.length === 0 ? <p className="all-clear">No open alerts</p> : null}
        {alerts.map((a) => (
          <AlertTile
            key={a.id}
            alert={a}
            now={now}
            canRespond={RESPONDER_ROLES.has(user.role)}
            canDecline={DECLINER_ROLES.has(user.role)}
            note={feed.store.note(a.id)}
            tileRef={receipts.tileRef}
            onAction={action.ask}
          />
        ))}
      </section>
      {action.dialog}
    </main>
  );
}
