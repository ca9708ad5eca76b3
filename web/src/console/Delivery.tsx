import type { Alert } from '../lib/alertStore.js';
import type { ReceiptSummary } from './useReceiptSummary.js';

/** A waiting (unacknowledged) alert that no screen has confirmed after this long is flagged. */
export const UNDELIVERED_AFTER_MS = 5_000;

/**
 * "Delivered to N screens (M in ICU) · seen by … · acknowledged by …", and a flag when no screen of
 * the alert's department has it — a hospital-wide board elsewhere does not count as the ward's screen.
 * N counts the screens (sessions) that reported receiving the alert, not every session signed in.
 */
export function Delivery({ alert, summary, now }: { alert: Alert; summary: ReceiptSummary | undefined; now: number }) {
  if (!summary) return <span className="muted">—</span>;
  const n = summary.deliveredScreens;
  const dept = summary.departmentScreens;
  const where = alert.departmentName ?? 'its department';
  const undelivered = dept === 0 && alert.status === 'active' && now - Date.parse(alert.createdAt) >= UNDELIVERED_AFTER_MS;
  return (
    <div className="delivery">
      {undelivered ? <strong className="flag-undelivered">{n === 0 ? 'Not delivered to any screen' : `Not delivered to any ${where} screen`}</strong> : null}
      <span>
        Delivered to {n} {n === 1 ? 'screen' : 'screens'}
        {n > 0 && dept !== n ? ` (${dept} in ${where})` : ''}
        {' · '}
        {summary.seenBy.length ? `seen by ${summary.seenBy.join(', ')}` : 'not seen yet'}
        {/* Who acknowledged, from the live alert: fresher than the last poll. */}
        {alert.acknowledgedByName ? ` · acknowledged by ${alert.acknowledgedByName}` : ''}
      </span>
    </div>
  );
}
