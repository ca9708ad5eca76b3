import { useEffect, useRef } from 'react';
import { useModal } from '../lib/useModal.js';

/** Workstation shortcuts, shown by "?" (and by the board's Shortcuts button). */
export const SHORTCUTS: [key: string, what: string][] = [
  ['j / ↓', 'Next tile'],
  ['k / ↑', 'Previous tile'],
  ['Enter', 'Details of the tile'],
  ['a', 'Acknowledge the tile (Undo for 5 s)'],
  ['u', 'Undo the last acknowledgement'],
  ['d', 'Decline the tile, with a reason'],
  ['r', 'Resolve the tile (asks first)'],
  ['m', 'Mute for 5 minutes / unmute'],
  ['n / p', 'Next / previous page'],
  ['c', 'Compact tiles on / off'],
  ['l', 'Light / dark theme'],
  ['f', 'Full screen'],
  ['?', 'This help'],
];

export type ShortcutHandlers = Partial<Record<string, () => void>>;

/**
 * One keydown listener for the board. Keys typed into a field, or pressed while a dialog is open, are
 * not shortcuts (a reason typed into Decline must not acknowledge the tile behind it).
 */
export function useShortcuts(handlers: ShortcutHandlers) {
  const ref = useRef(handlers);
  ref.current = handlers;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const t = e.target as HTMLElement;
      if (t.closest('input, textarea, select, dialog[open]') || document.querySelector('dialog[open]')) return;
      const key = e.key === 'ArrowDown' ? 'j' : e.key === 'ArrowUp' ? 'k' : e.key;
      const run = ref.current[key];
      if (!run) return;
      e.preventDefault();
      run();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
}

export function ShortcutHelp({ onClose }: { onClose: () => void }) {
  const ref = useModal();
  return (
    <dialog ref={ref} className="details shortcut-help" aria-labelledby="shortcut-title" onCancel={onClose}>
      <h2 id="shortcut-title">Keyboard shortcuts</h2>
      <table className="data">
        <caption className="sr-only">Keyboard shortcuts of the board</caption>
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">What it does</th>
          </tr>
        </thead>
        <tbody>
          {SHORTCUTS.map(([k, what]) => (
            <tr key={k}>
              <td>
                <kbd>{k}</kbd>
              </td>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="actions">
        <button type="button" className="primary" onClick={onClose}>
          Close
        </button>
      </div>
    </dialog>
  );
}
