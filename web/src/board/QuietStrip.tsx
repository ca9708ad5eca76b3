import { useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import type { Suppression } from '../../../server/suppressions/schemas.js';
import { PriorityBadge } from '../components/Priority.js';
import { useTRPC } from '../lib/api.js';
import { when } from '../lib/format.js';
import './strips.css';

const POLL_MS = 30_000;
const DAY_MS = 86_400_000;

/** "rooms 301, 302 · falls": what a window covers, or the whole department. */
export function windowScope(s: Suppression): string {
  const rooms = s.rooms?.length ? `${s.rooms.length === 1 ? 'room' : 'rooms'} ${s.rooms.join(', ')}` : 'every room';
  const types = s.alertTypes?.length ? s.alertTypes.join(', ') : 'every type';
  return `${rooms} · ${types}`;
}

interface Props {
  /** Bumped when a `suppressed` event arrives: a raise was just kept quiet. */
  revision: number;
  /** A whole-hospital board filtered to one department: its name (windows) and code (alerts). */
  department?: { name: string; code: string } | null;
}

/**
 * Suppression windows on the board: each running one says what it keeps quiet and until when
 * ("Kept quiet: 3 — Fire drill until 14:00"), an upcoming one when it starts, and the raises it kept
 * quiet are listed apart, never among the tiles (they page nobody and make no sound).
 */
export function QuietStrip({ revision, department }: Props) {
  const trpc = useTRPC();
  const windows = useQuery({ ...trpc.suppressions.list.queryOptions({ endedWithinHours: 24 }), refetchInterval: POLL_MS });
  const from = new Date(Math.floor((Date.now() - DAY_MS) / 60_000) * 60_000).toISOString();
  // No window in the last day means nothing kept quiet in it: a ward without windows asks once, not twice.
  const anyWindow = (windows.data?.suppressions.length ?? 0) > 0;
  const quiet = useQuery({
    ...trpc.alerts.list.queryOptions({ status: ['suppressed'], from, limit: 50 }),
    enabled: anyWindow,
    refetchInterval: POLL_MS,
    placeholderData: (prev) => prev,
  });
  const { refetch: again } = windows;
  const { refetch: againQuiet } = quiet;
  useEffect(() => {
    if (revision === 0) return;
    void again();
    void againQuiet();
  }, [revision, again, againQuiet]);

  const shown = (windows.data?.suppressions ?? []).filter((s) => s.state !== 'over' && (!department || s.departmentName === department.name));
  const alerts = (anyWindow ? (quiet.data?.alerts ?? []) : []).filter((a) => !department || a.departmentCode === department.code);
  if (!shown.length && !alerts.length) return null;
  const reasonOf = new Map((windows.data?.suppressions ?? []).map((s) => [s.id, s.reason]));
  return (
    <section className="board-strip quiet-strip" aria-labelledby="quiet-title">
      <h2 id="quiet-title" className="strip-title">
        Kept quiet ({alerts.length} in the last 24 h)
      </h2>
      <ul className="strip-list">
        {shown.map((s) => (
          <li key={s.id} className="strip-item quiet-window" data-suppression-id={s.id}>
            <strong>
              {s.state === 'running' ? `Kept quiet: ${s.suppressedCount} — ${s.reason} until ${when(s.endsAt)}` : `Upcoming: ${s.reason}, ${when(s.startsAt)} to ${when(s.endsAt)}`}
            </strong>
            <span className="muted-strip">
              {s.departmentName} · {windowScope(s)}
            </span>
          </li>
        ))}
      </ul>
      {alerts.length ? (
        <details className="quiet-alerts">
          <summary>Show what was kept quiet ({alerts.length})</summary>
          <ul aria-label="Alerts kept quiet">
            {alerts.map((a) => (
              <li key={a.id} data-alert-id={a.id}>
                <PriorityBadge priority={a.priority} /> <strong>{a.title}</strong>
                {a.roomNumber ? ` · Room ${a.roomNumber}` : ''} · {when(a.createdAt)}
                {a.suppressionId && reasonOf.get(a.suppressionId) ? ` · ${reasonOf.get(a.suppressionId)}` : ''}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </section>
  );
}
