import { useCallback, useRef, useState } from 'react';
import type { Alert } from '../lib/alertStore.js';

interface Message {
  id: number;
  text: string;
  urgent: boolean;
}

/** How long an announcement stays in its region (long enough to be read; the region stays small). */
const KEEP_MS = 20_000;

/**
 * Screen-reader announcements for the board: one message per new alert, added to a polite live region,
 * or to an assertive one for a critical (it interrupts whatever is being read). The regions exist from
 * the start (a live region added together with its text is often not announced).
 */
export function useAnnouncer() {
  const [messages, setMessages] = useState<Message[]>([]);
  const seq = useRef(0);

  const announce = useCallback((alert: Alert, what = 'New') => {
    seq.current += 1;
    const id = seq.current;
    const where = [alert.roomNumber ? `room ${alert.roomNumber}` : null, alert.departmentName].filter(Boolean).join(', ');
    const text = `${what} ${alert.priority} alert: ${alert.title}${where ? `, ${where}` : ''}.`;
    setMessages((m) => [...m.slice(-9), { id, text, urgent: alert.priority === 'critical' }]);
    setTimeout(() => setMessages((m) => m.filter((x) => x.id !== id)), KEEP_MS);
  }, []);

  const regions = (
    <div className="sr-only">
      <div role="log" aria-live="polite" aria-label="New alerts">
        {messages
          .filter((m) => !m.urgent)
          .map((m) => (
            <p key={m.id}>{m.text}</p>
          ))}
      </div>
      <div role="alert" aria-live="assertive" aria-label="New critical alerts">
        {messages
          .filter((m) => m.urgent)
          .map((m) => (
            <p key={m.id}>{m.text}</p>
          ))}
      </div>
    </div>
  );
  return { announce, regions };
}
