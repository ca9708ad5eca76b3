import type { ReactNode } from 'react';
import { client } from '../lib/api.js';
import { roleLabel } from '../lib/format.js';
import { type SessionUser, session } from '../lib/session.js';
import { type Screen, screenLabel } from './routes.js';

/** The thin top bar: where you are, where else you may go, who is signed in. */
export function Shell({ user, screen, allowed, children }: { user: SessionUser; screen: Screen; allowed: Screen[]; children: ReactNode }) {
  const signOut = () => {
    void client.auth.logout
      .mutate()
      .catch(() => undefined)
      .finally(() => session.end('You have signed out.'));
  };
  return (
    <div className={`shell screen-${screen}`}>
      <header className="topbar">
        <span className="brand">Clarion</span>
        {allowed.length > 1 ? (
          <nav aria-label="Screens">
            {allowed.map((s) => (
              <a key={s} href={`#/${s}`} aria-current={s === screen ? 'page' : undefined}>
                {screenLabel[s]}
              </a>
            ))}
          </nav>
        ) : null}
        <span className="who">
          {user.name} · {roleLabel[user.role]}
          {user.departmentName ? ` · ${user.departmentName}` : ''}
        </span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      {children}
    </div>
  );
}
