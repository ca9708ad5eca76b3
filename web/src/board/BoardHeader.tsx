import { ConnectionStatus } from '../components/ConnectionStatus.js';
import { SoundControls } from '../components/SoundControls.js';
import { clock } from '../lib/format.js';
import type { ConnectionInfo } from '../lib/useConnection.js';
import type { BoardPrefs } from './usePrefs.js';

interface HeaderProps {
  title: string;
  now: number;
  conn: ConnectionInfo;
  waiting: number;
  acknowledged: number;
  /** "Showing 11 of 20" when the wall pages. */
  showing: string | null;
  prefs: BoardPrefs;
  setPrefs: (next: Partial<BoardPrefs>) => void;
  /** Departments to filter by (whole-hospital boards only). */
  departments: { code: string; name: string }[] | null;
  onHelp: () => void;
  onFullscreen: () => void;
}

/**
 * The board's one-line header: what board, how many wait, the clock, the connection, the state of sound;
 * then the view controls (department, compact, theme, full screen, shortcuts). On a phone it wraps into
 * two short rows and the view controls fold into "View".
 */
export function BoardHeader({ title, now, conn, waiting, acknowledged, showing, prefs, setPrefs, departments, onHelp, onFullscreen }: HeaderProps) {
  return (
    <header className="board-head">
      <h1>{title}</h1>
      <span className="board-count" aria-live="polite">
        {waiting} waiting · {acknowledged} acknowledged{showing ? ` · ${showing}` : ''}
      </span>
      <span className="board-clock" aria-hidden="true">
        {clock(now)}
      </span>
      <ConnectionStatus info={conn} />
      <SoundControls />
      {departments ? (
        <label className="board-dept">
          <span className="sr-only">Department</span>
          <select value={prefs.department} onChange={(e) => setPrefs({ department: e.target.value })} aria-label="Department">
            <option value="">All departments</option>
            {departments.map((d) => (
              <option key={d.code} value={d.code}>
                {d.name}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      <details className="board-view">
        <summary>View</summary>
        <div className="board-view-menu">
          <button type="button" aria-pressed={prefs.compact} onClick={() => setPrefs({ compact: !prefs.compact })}>
            Compact tiles
          </button>
          <button type="button" aria-pressed={prefs.theme === 'light'} onClick={() => setPrefs({ theme: prefs.theme === 'light' ? 'dark' : 'light' })}>
            Light theme
          </button>
          <button type="button" onClick={onFullscreen}>
            Full screen
          </button>
        </div>
      </details>
      <button type="button" className="board-help" onClick={onHelp} aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)">
        ?
      </button>
    </header>
  );
}
