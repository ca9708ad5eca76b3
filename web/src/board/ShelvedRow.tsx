import { useState } from 'react';
import { PriorityBadge } from '../components/Priority.js';
import type { Alert } from '../lib/alertStore.js';
import { countdown, when } from '../lib/format.js';
import './strips.css';
import { unshelve } from './useShelve.js';

interface Props {
  alerts: Alert[];
  now: number;
  canShelve: boolean;
  onOpen: (alert: Alert) => void;
}

/**
 * Shelved alerts, apart from the tiles and quieter than them: still someone's, "not now". Each says when
 * it comes back (a live countdown), why, and who shelved it; Unshelve brings it back at once.
 */
export function ShelvedRow({ alerts, now, canShelve, onOpen }: Props) {
  const [errors, setErrors] = useState<Record<string, string>>({});
  if (!alerts.length) return null;
  const back = async (a: Alert) => {
    const error = await unshelve(a.id);
    setErrors((e) => ({ ...e, [a.id]: error ?? '' }));
  };
  return (
    <section className="board-strip shelved-row" aria-labelledby="shelved-title">
      <h2 id="shelved-title" className="strip-title">
        Shelved ({alerts.length})
      </h2>
      <ul className="strip-list">
        {alerts.map((a) => {
          const left = a.shelvedUntil ? Date.parse(a.shelvedUntil) - now : 0;
          return (
            <li key={a.id} className={`strip-item shelved-item tile-${a.priority}`} data-alert-id={a.id}>
              <PriorityBadge priority={a.priority} />
              <span className="strip-what">
                <strong>{a.title}</strong>
                {a.roomNumber ? ` · Room ${a.roomNumber}` : ''} · {a.departmentName}
              </span>
              <span className="shelved-back">
                Shelved — {left > 0 ? <>back in <span className="shelved-countdown">{countdown(left)}</span></> : 'back any moment'}
              </span>
              {a.repeatCount > 0 ? <span className="repeated">Repeated ×{a.repeatCount}</span> : null}
              {a.shelveReason ? <span className="shelved-reason">“{a.shelveReason}”</span> : null}
              <span className="shelved-by">
                by {a.shelvedByName ?? 'someone'}
                {a.shelvedUntil ? `, until ${when(a.shelvedUntil, now)}` : ''}
              </span>
              <span className="strip-actions">
                {canShelve ? (
                  <button type="button" onClick={() => void back(a)} aria-label={`Unshelve ${a.title}`}>
                    Unshelve
                  </button>
                ) : null}
                <button type="button" onClick={() => onOpen(a)} aria-label={`Details of ${a.title}`}>
                  Details
                </button>
              </span>
              {errors[a.id] ? (
                <p role="alert" className="tile-error">
                  {errors[a.id]}
                </p>
              ) : null}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
