import { useRef, useState } from 'react';
import type { TimelineSegment } from '../../../server/schedules/schemas.js';
import { dayLabel, hourOf, localDays, momentOf, roundToQuarter } from './zoned.js';

interface Props {
  zone: string;
  days: number;
  segments: TimelineSegment[];
  selected: TimelineSegment | null;
  onSelect: (segment: TimelineSegment) => void;
  /** A window dragged across one day's bar (snapped to quarter hours). */
  onDrag: (from: number, to: number) => void;
  now?: number;
}

const describe = (s: TimelineSegment, zone: string) =>
  `${s.userName ?? 'Nobody on call'}${s.override ? ' (override)' : ''}, ${momentOf(s.from, zone)} – ${momentOf(s.to, zone)}`;

/** The least a drag must cover to count as a window, not a click. */
const MIN_DRAG_MS = 15 * 60_000;

/**
 * Who is on call, one row per local day: each shift a bar as long as it is, the name on it, an
 * override striped and a gap in red ("Nobody on call"). A bar is a button (its shift's details and
 * actions); dragging across a day's empty track proposes an override for that window.
 */
export function OnCallCalendar({ zone, days, segments, selected, onSelect, onDrag, now = Date.now() }: Props) {
  const [drag, setDrag] = useState<{ day: number; from: number; to: number } | null>(null);
  const start = useRef<{ day: number; at: number; x: number } | null>(null);
  // A drag that ends on a shift's bar must not also select it.
  const dragged = useRef(false);
  const list = localDays(zone, days, now);

  const timeAt = (el: HTMLElement, clientX: number, day: (typeof list)[number]) => {
    const r = el.getBoundingClientRect();
    const f = Math.min(1, Math.max(0, (clientX - r.left) / r.width));
    return roundToQuarter(day.start.toMillis() + f * (day.end.toMillis() - day.start.toMillis()));
  };

  return (
    <ol className="oncall-calendar" aria-label="On call, next 14 days">
      <li className="oncall-day oncall-axis" aria-hidden="true">
        <span />
        <div>
          {['00:00', '06:00', '12:00', '18:00'].map((h, k) => (
            <span key={h} style={{ left: `${k * 25}%` }}>
              {h}
            </span>
          ))}
        </div>
      </li>
      {list.map((day, i) => {
        const from = day.start.toMillis();
        const to = day.end.toMillis();
        const len = to - from;
        const inDay = segments.filter((s) => Date.parse(s.to) > from && Date.parse(s.from) < to);
        return (
          <li key={from} className="oncall-day">
            <span className="oncall-date">{dayLabel(day.start)}</span>
            <div
              className="oncall-track"
              onPointerDown={(e) => {
                start.current = { day: i, at: timeAt(e.currentTarget, e.clientX, day), x: e.clientX };
              }}
              onPointerMove={(e) => {
                const s = start.current;
                if (!s || s.day !== i || Math.abs(e.clientX - s.x) < 6) return;
                const at = timeAt(e.currentTarget, e.clientX, day);
                setDrag({ day: i, from: Math.min(s.at, at), to: Math.max(s.at, at) });
              }}
              onPointerUp={() => {
                const d = drag;
                start.current = null;
                setDrag(null);
                dragged.current = Boolean(d);
                if (d && d.to - d.from >= MIN_DRAG_MS) onDrag(d.from, d.to);
              }}
              onPointerLeave={() => {
                start.current = null;
                setDrag(null);
              }}
            >
              {inDay.map((s) => {
                const a = Math.max(Date.parse(s.from), from);
                const b = Math.min(Date.parse(s.to), to);
                const kind = s.userId === null ? 'gap' : s.override ? 'override' : 'shift';
                return (
                  <button
                    type="button"
                    key={`${s.from}-${s.userId}`}
                    className={`oncall-seg oncall-${kind}`}
                    style={{ left: `${((a - from) / len) * 100}%`, width: `${((b - a) / len) * 100}%` }}
                    aria-label={describe(s, zone)}
                    aria-pressed={selected?.from === s.from && selected.to === s.to}
                    title={describe(s, zone)}
                    onClick={() => {
                      if (!dragged.current) onSelect(s);
                      dragged.current = false;
                    }}
                  >
                    <span>{s.userName ?? 'Nobody'}</span>
                  </button>
                );
              })}
              {drag && drag.day === i ? (
                <span className="oncall-drag" style={{ left: `${((drag.from - from) / len) * 100}%`, width: `${((drag.to - drag.from) / len) * 100}%` }}>
                  {hourOf(new Date(drag.from).toISOString(), zone)}–{hourOf(new Date(drag.to).toISOString(), zone)}
                </span>
              ) : null}
              {now >= from && now < to ? <span className="oncall-now" style={{ left: `${((now - from) / len) * 100}%` }} aria-hidden="true" /> : null}
            </div>
          </li>
        );
      })}
    </ol>
  );
}
