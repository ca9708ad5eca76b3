import { useState } from 'react';

export interface BoardPrefs {
  compact: boolean;
  theme: 'dark' | 'light';
  /** A department code, or '' for all departments (whole-hospital boards only). */
  department: string;
}

const KEY = 'clarion.board';

/**
 * The board's view settings, kept per screen (localStorage), and settable from the URL so a wall
 * screen can be set up once by its address: `/?theme=light&compact=1&department=ICU#/board`.
 */
function load(): BoardPrefs {
  const saved = (() => {
    try {
      return JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<BoardPrefs>;
    } catch {
      return {};
    }
  })();
  const q = new URLSearchParams(location.search);
  const theme = q.get('theme') ?? saved.theme;
  return {
    compact: q.has('compact') ? q.get('compact') === '1' : Boolean(saved.compact),
    theme: theme === 'light' ? 'light' : 'dark',
    department: q.get('department') ?? saved.department ?? '',
  };
}

export function usePrefs() {
  const [prefs, setPrefs] = useState(load);
  const update = (next: Partial<BoardPrefs>) =>
    setPrefs((p) => {
      const merged = { ...p, ...next };
      localStorage.setItem(KEY, JSON.stringify(merged));
      return merged;
    });
  return [prefs, update] as const;
}
