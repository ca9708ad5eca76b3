import type { Alert } from '../lib/alertStore.js';
import { summarise } from './urgency.js';

interface MoreProps {
  /** The alerts not on this page. */
  hidden: Alert[];
  page: number;
  pages: number;
  compact: boolean;
  onPage: (page: number) => void;
  onCompact: () => void;
}

/**
 * The last slot of a full wall: "+N more", what they are (so a hidden waiting critical is never a
 * secret), and the ways to see them — the next page, or compact tiles that fit about twice as many.
 */
export function MoreTile({ hidden, page, pages, compact, onPage, onCompact }: MoreProps) {
  const waitingCritical = hidden.some((a) => a.status === 'active' && a.priority === 'critical');
  return (
    <aside className={`tile more-tile${waitingCritical ? ' more-critical' : ''}`} aria-label={`${hidden.length} more alerts not shown`}>
      <p className="more-count">+{hidden.length} more</p>
      <p className="more-summary">{summarise(hidden)}</p>
      <p className="more-page">
        Page {page + 1} of {pages}
      </p>
      <div className="tile-actions">
        <button type="button" className="primary" onClick={() => onPage((page + 1) % pages)}>
          {page + 1 < pages ? 'Next page' : 'First page'}
        </button>
        {!compact ? (
          <button type="button" onClick={onCompact}>
            Compact tiles
          </button>
        ) : null}
      </div>
    </aside>
  );
}
