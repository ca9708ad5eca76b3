import type { DepartmentScreens } from './usePresence.js';

/** Which wards have a board open right now: an alert to a ward with none may go unseen. */
export function ScreensOnline({ departments, known }: { departments: DepartmentScreens[]; known: boolean }) {
  return (
    <section className="card screens" aria-labelledby="screens-title">
      <h2 id="screens-title" className="card-title">
        Screens online
      </h2>
      {!known ? <p className="muted">Not known right now (the server cannot tell).</p> : null}
      <ul className="screens-list">
        {departments.map((d) => (
          <li key={d.id} className={d.screens === 0 ? 'no-screens' : undefined}>
            <span className="screens-dept">{d.name}</span>
            <span className="screens-count">
              {d.screens === null ? '—' : d.screens === 0 ? 'No screens' : `${d.screens} ${d.screens === 1 ? 'screen' : 'screens'}`}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
