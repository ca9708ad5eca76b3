import { useSyncExternalStore } from 'react';
import type { AuthUserOutput } from '../../../server/auth/schemas.js';

export type SessionUser = AuthUserOutput;

interface SessionState {
  token: string | null;
  user: SessionUser | null;
  /** Shown on the sign-in screen (e.g. "Your session has ended"). */
  notice: string | null;
}

const TOKEN_KEY = 'clarion.token';
// sessionStorage: the token dies with the tab and is never shared between tabs or users of a kiosk.
let state: SessionState = { token: sessionStorage.getItem(TOKEN_KEY), user: null, notice: null };
const listeners = new Set<() => void>();

function set(next: Partial<SessionState>) {
  state = { ...state, ...next };
  for (const l of listeners) l();
}

export const session = {
  get: () => state,
  token: () => state.token,
  subscribe(listener: () => void) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  signIn(token: string, user: SessionUser) {
    sessionStorage.setItem(TOKEN_KEY, token);
    set({ token, user, notice: null });
  },
  setUser(user: SessionUser) {
    set({ user });
  },
  /** Back to sign-in, with a message saying why. */
  end(notice: string | null) {
    sessionStorage.removeItem(TOKEN_KEY);
    set({ token: null, user: null, notice });
  },
};

export function useSession(): SessionState {
  return useSyncExternalStore(session.subscribe, session.get);
}
