import { useMemo } from 'react';
import { useRoute } from '../app/routes.js';
import { CodeBanner } from '../components/CodeBanner.js';
import { ConnectionStatus, StaleBanner } from '../components/ConnectionStatus.js';
import { OPEN_STATUSES } from '../lib/alertStore.js';
import type { SessionUser } from '../lib/session.js';
import { sound } from '../lib/sound.js';
import { useAlertFeed } from '../lib/useAlertFeed.js';
import { useConnection } from '../lib/useConnection.js';
import { useNow } from '../lib/useNow.js';
import { AlertHistory } from './AlertHistory.js';
import { CallCodeForm } from './CallCodeForm.js';
import { RaiseAlertForm } from './RaiseAlertForm.js';
import { RecentAlerts } from './RecentAlerts.js';
import { ScreensOnline } from './ScreensOnline.js';
import { usePresence } from './usePresence.js';

/** The operator console: raise alerts fast, and watch what happens to them. */
export function Console({ user }: { user: SessionUser }) {
  // A code sounds here too (when sound was enabled on this screen): it overrides mute everywhere.
  const feed = useAlertFeed({ keepClosed: true, onEvent: (e) => e.type === 'created' && e.alert.code && sound.play('code') });
  // biome-ignore lint/correctness/useExhaustiveDependencies: revision is what changes when the store does
  const codes = useMemo(() => feed.store.sortedByNewest().filter((a) => a.code && OPEN_STATUSES.has(a.status)), [feed.revision]);
  const conn = useConnection();
  const now = useNow();
  const presence = usePresence();
  // #/console/history: the whole history, full width; #/console: raise and watch (the default).
  const history = useRoute().sub === 'history';
  return (
    <main className={`console${conn.status === 'lost' ? ' stale' : ''}`}>
      <header className="page-head">
        <h1>Operator console</h1>
        <ConnectionStatus info={conn} />
      </header>
      <CodeBanner codes={codes} user={user} />
      <StaleBanner info={conn} />
      <nav className="console-tabs" aria-label="Console views">
        <a href="#/console" aria-current={history ? undefined : 'page'}>
          Raise and watch
        </a>
        <a href="#/console/history" aria-current={history ? 'page' : undefined}>
          Alert history
        </a>
      </nav>
      {history ? <AlertHistory now={now} /> : null}
      <div className="console-grid" hidden={history}>
        <div className="console-side">
          <ScreensOnline departments={presence.departments} known={presence.known} />
          <RaiseAlertForm screensOf={presence.screensOf} checkScreens={presence.checkScreens} />
          <CallCodeForm />
        </div>
        <RecentAlerts feed={feed} user={user} now={now} />
      </div>
    </main>
  );
}
