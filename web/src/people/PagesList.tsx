import type { AlertEvent, Page } from '../../../server/alerts/schemas.js';
import { when } from '../lib/format.js';
import { attemptWords } from './attemptWords.js';
import './PagesList.css';

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
 * The messages sent to reach one person, times since the page: "— push delivered 00:14, SMS sent
 * 00:44, answered by voice 01:02". Nothing when the answer carries no attempts (My alerts).
 */
function Attempts({ page }: { page: Page }) {
  if (!page.attempts) return null;
  if (!page.attempts.length) return <span className="page-attempts attempt-quiet"> — screens only, nothing sent to a phone</span>;
  return (
    <span className="page-attempts">
      {' — '}
      {page.attempts.map((a, i) => {
        const w = attemptWords(a, page.pagedAt);
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: attempts come in step order and are never reordered
          <span key={i} className={`attempt attempt-${w.tone}`}>
            {i > 0 ? ', ' : ''}
            {w.text}
          </span>
        );
      })}
    </span>
  );
}

/**
 * Who an alert paged, level by level, one person a line: "Dr. Ivan ICU (on call: Doctors; paged
 * 16:02, acknowledged 16:03) — push delivered 00:14, SMS sent 00:44, answered by voice 01:02".
 * Nothing when the hospital pages nobody.
 */
export function PagesList({ pages }: { pages: Page[] }) {
  if (!pages.length) return null;
  const levels = [...new Set(pages.map((p) => p.level))].sort((a, b) => a - b);
  const sent = pages.some((p) => p.attempts?.length);
  return (
    <>
      {sent ? <p className="muted pages-note">After the dash: each message sent to reach the person, timed from their page (minutes:seconds).</p> : null}
      <ul className="pages-list" aria-label="Pages">
      {levels.map((level) => (
        <li key={level}>
          <strong>Paged, level {level}:</strong>
          <ul className="page-people">
            {pages
              .filter((p) => p.level === level)
              .map((p) => (
                <li key={p.userId} className={`page page-${p.response ?? 'open'}`}>
                  <span className="page-who">{p.userName}</span> <span className="muted">({[p.reason, outcome(p)].join('; ')})</span>
                  <Attempts page={p} />
                </li>
              ))}
          </ul>
        </li>
      ))}
      </ul>
    </>
  );
}
