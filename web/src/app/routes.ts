import { useEffect, useState } from 'react';
import type { SessionUser } from '../lib/session.js';

export type Screen = 'board' | 'mine' | 'console' | 'escalations' | 'admin';

export const screenLabel: Record<Screen, string> = { board: 'Board', mine: 'My alerts', console: 'Console', escalations: 'Escalations', admin: 'Admin' };

/** Where each role may go; the first is where it lands after sign-in. The server enforces the same. */
export const screensFor: Record<SessionUser['role'], Screen[]> = {
  nurse: ['board', 'mine'],
  doctor: ['board', 'mine'],
  operator: ['console', 'board'],
  head_doctor: ['board', 'mine', 'escalations'],
  admin: ['admin', 'board', 'mine', 'console', 'escalations'],
};

function parse(): { screen: string; sub: string } {
  const [, screen = '', sub = ''] = location.hash.split('/');
  return { screen, sub };
}

/** A tiny hash router: #/board, #/admin/users … (the server serves index.html for every path). */
export function useRoute(): { screen: string; sub: string } {
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const onHash = () => setRoute(parse());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  return route;
}

export const go = (path: string) => {
  location.hash = `#/${path}`;
};
