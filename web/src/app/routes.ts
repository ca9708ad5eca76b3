import { useEffect, useState } from 'react';
import type { SessionUser } from '../lib/session.js';

export type Screen = 'board' | 'mine' | 'assignments' | 'oncall' | 'console' | 'escalations' | 'admin' | 'reach' | 'incident' | 'suppressions' | 'code';

export const screenLabel: Record<Screen, string> = {
  board: 'Board',
  mine: 'My alerts',
  assignments: 'Assignments',
  oncall: 'On call',
  console: 'Console',
  escalations: 'Escalations',
  admin: 'Admin',
  reach: 'Reach me',
  suppressions: 'Suppressions',
  code: 'Call a code',
  incident: 'Incident record', // reached from an alert's timeline (#/incident/<id>), not from the nav
};

/** Where each role may go; the first is where it lands after sign-in. The server enforces the same. */
export const screensFor: Record<SessionUser['role'], Screen[]> = {
  nurse: ['board', 'mine', 'assignments', 'oncall', 'reach', 'code'],
  doctor: ['board', 'mine', 'oncall', 'reach', 'code'],
  operator: ['console', 'board', 'oncall'],
  head_doctor: ['board', 'mine', 'escalations', 'assignments', 'oncall', 'suppressions', 'reach', 'code'],
  admin: ['admin', 'board', 'mine', 'console', 'escalations', 'assignments', 'oncall', 'suppressions', 'reach'],
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
