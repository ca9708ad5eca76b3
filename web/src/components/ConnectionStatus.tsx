import { when } from '../lib/format.js';
import type { ConnectionInfo } from '../lib/useConnection.js';

/** Always visible: a small live/reconnecting pill, and the big stale banner once the link is lost. */
export function ConnectionStatus({ info }: { info: ConnectionInfo }) {
  const text = info.status === 'live' ? 'Live' : info.status === 'connecting' ? 'Connecting…' : 'Offline';
  return (
    <span className={`conn conn-${info.status}`} role="status" aria-label={`Connection: ${text}`}>
      <span className="dot" aria-hidden="true" />
      {text}
    </span>
  );
}

export function StaleBanner({ info }: { info: ConnectionInfo }) {
  if (info.status !== 'lost') return null;
  return (
    <div className="stale-banner" role="alert">
      Connection lost — showing alerts as of {info.asOf ? when(info.asOf) : 'unknown'}. Reconnecting…
    </div>
  );
}
