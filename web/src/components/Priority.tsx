import type { Alert } from '../lib/alertStore.js';

const words: Record<Alert['priority'], string> = { critical: 'CRITICAL', high: 'HIGH', medium: 'MEDIUM', low: 'LOW' };

/**
 * Priority by colour, word AND shape (diamond, triangle, circle, inverted triangle), so it reads
 * without colour vision. The shapes are CSS (clip-path), not emoji: kiosk browsers often lack emoji fonts.
 */
export function PriorityBadge({ priority }: { priority: Alert['priority'] }) {
  return (
    <span className={`priority priority-${priority}`}>
      <span className={`shape shape-${priority}`} aria-hidden="true" />
      {words[priority]}
    </span>
  );
}
