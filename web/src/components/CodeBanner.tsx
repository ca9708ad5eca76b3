import { useState } from 'react';
import { client, errorCode, errorMessage } from '../lib/api.js';
import type { Alert } from '../lib/alertStore.js';
import { codeLabel, when } from '../lib/format.js';
import './CodeBanner.css';

/** Who may press Responding (the server's alert.respond). */
const RESPONDERS: ReadonlySet<string> = new Set(['nurse', 'doctor', 'head_doctor', 'admin']);

/** "2 responding: Dr. X (since 22:01), Nia (since 22:02)", or that nobody has said so yet. */
export function respondersLine(a: Alert): string {
  if (!a.responders.length) return 'Nobody responding yet';
  return `${a.responders.length} responding: ${a.responders.map((r) => `${r.name} (since ${when(r.respondedAt)})`).join(', ')}`;
}

/** Says "I am on my way" to an open code; null when done, else what went wrong. */
export async function respond(alertId: string): Promise<string | null> {
  try {
    await client.alerts.respond.mutate({ alertId });
    return null;
  } catch (err) {
    return errorCode(err) === 'CONFLICT' ? 'You are already responding to this code.' : errorMessage(err);
  }
}

interface Props {
  /** Every open code of the hospital (whatever department the screen shows). */
  codes: Alert[];
  user: { id: string; role: string };
}

/**
 * A full-width banner per open hospital code, at the very top of every board and the console: which
 * code, where, who is coming and since when; Responding for clinicians. role="alert" so a screen
 * reader says it at once; nothing in it ticks (an alert region that changes every second would drown
 * everything else out).
 */
export function CodeBanner({ codes, user }: Props) {
  const [errors, setErrors] = useState<Record<string, string>>({});
  if (!codes.length) return null;
  return (
    <div className="code-banners">
      {codes.map((c) => {
        const where = [c.departmentName, c.roomNumber ? `room ${c.roomNumber}` : null].filter(Boolean).join(' ');
        const mine = c.responders.some((r) => r.userId === user.id);
        const go = async () => setErrors({ ...errors, [c.id]: (await respond(c.id)) ?? '' });
        return (
          <section key={c.id} role="alert" className={`code-banner code-${c.code}`} aria-label={`${codeLabel[c.code ?? ''] ?? 'Code'}: ${where}`} data-alert-id={c.id}>
            <p className="code-banner-text">
              <strong className="code-banner-name">{(codeLabel[c.code ?? ''] ?? 'Code').toUpperCase()}</strong>
              <span> — {where}</span>
              <span> — {respondersLine(c)}</span>
              <span className="code-banner-since"> · called {when(c.createdAt)}</span>
            </p>
            {RESPONDERS.has(user.role) ? (
              mine ? (
                <span className="code-banner-mine">You are responding</span>
              ) : (
                <button type="button" className="code-banner-respond" onClick={() => void go()}>
                  Responding
                </button>
              )
            ) : null}
            {errors[c.id] ? <span className="code-banner-error">{errors[c.id]}</span> : null}
          </section>
        );
      })}
    </div>
  );
}
