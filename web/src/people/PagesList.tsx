import type { AlertEvent, Page } from '../../../server/alerts/schemas.js';
import { when } from '../lib/format.js';

/** What became of one page, in order: read, then the answer. */
function outcome(p: Page): string {
  const parts = [`paged ${when(p.pagedAt)}`];
  if (p.readAt) parts.push(`read ${when(p.readAt)}`);
  else if (p.deliveredAt) parts.push(`delivered ${when(p.deliveredAt)}`);
  if (p.response) parts.push(`${p.response}${p.respondedAt ? ` ${when(p.respondedAt)}` : ''}`);
  else parts.push('no answer yet');
  return parts.join(', ');
}

/** A `paged` / `coverage_gap` timeline line (the names are on the pages list below it). */
export function pageEventLine(e: AlertEvent): string | null {
  const d = (e.detail ?? {}) as { level?: unknown; userIds?: unknown };
  const n = Array.isArray(d.userIds) ? d.userIds.length : 0;
  if (e.type === 'paged') return `Level ${String(d.level ?? e.alert.escalationLevel)} paged ${n === 1 ? '1 person' : `${n} people`}`;
  if (e.type === 'coverage_gap') return `Level ${String(d.level ?? e.alert.escalationLevel)} found nobody to page — moved up at once`;
  return null;
}

/**
 * Who an alert paged, level by level: "Paged: Nia ICU Nurse (assigned, room 312, paged 16:02,
 * declined 16:03) · Dr. Ivan ICU (on call: …)". Nothing when the hospital pages nobody.
 */
export function PagesList({ pages }: { pages: Page[] }) {
  if (!pages.length) return null;
  const levels = [...new Set(pages.map((p) => p.level))].sort((a, b) => a - b);
  return (
    <ul className="pages-list" aria-label="Pages">
      {levels.map((level) => (
        <li key={level}>
          <strong>Paged, level {level}:</strong>{' '}
          {pages
            .filter((p) => p.level === level)
            .map((p, i) => (
              <span key={p.userId} className={`page page-${p.response ?? 'open'}`}>
                {i > 0 ? ' · ' : ''}
                {p.userName} <span className="muted">({[p.reason, outcome(p)].join('; ')})</span>
              </span>
            ))}
        </li>
      ))}
    </ul>
  );
}
