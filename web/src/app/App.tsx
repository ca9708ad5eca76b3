import { lazy, Suspense, useEffect, useState } from 'react';
import { AccountSetup } from '../auth/AccountSetup.js';
import { ChangePassword } from '../auth/ChangePassword.js';
import { SignIn } from '../auth/SignIn.js';
import { TwoFactorSetup } from '../auth/TwoFactorSetup.js';
import { Board } from '../board/Board.js';
import { CallCode } from '../console/CallCode.js';
import { Console } from '../console/Console.js';
import { Escalations } from '../escalations/Escalations.js';
import { mayExportIncident } from '../incident/IncidentLink.js';
import { Assignments } from '../people/Assignments.js';
import { MyAlerts } from '../people/MyAlerts.js';
import { OnCall } from '../people/OnCall.js';
import { Reach } from '../people/Reach.js';
import { client, errorCode } from '../lib/api.js';
import { session, useSession } from '../lib/session.js';
import { setupLink } from '../lib/setupToken.js';
import { Suppressions } from '../suppressions/Suppressions.js';
import { type Screen, screensFor, useRoute } from './routes.js';
import { Shell } from './Shell.js';

// The admin screens (and their charting library) load only for admins: ward boards stay light.
const Admin = lazy(() => import('../admin/Admin.js').then((m) => ({ default: m.Admin })));
const IncidentRecord = lazy(() => import('../incident/IncidentRecord.js').then((m) => ({ default: m.IncidentRecord })));

export function App() {
  const { token, user } = useSession();
  const route = useRoute();
  // A /setup?token=… link comes first, even in a tab where someone is signed in: completing it signs its user in.
  const [onSetupPage, setOnSetupPage] = useState(setupLink.onSetupPage);

  // A token from an earlier page load (sessionStorage): find out who it belongs to.
  useEffect(() => {
    if (!token || user || onSetupPage) return;
    client.auth.me
      .query()
      .then((me) => session.setUser(me))
      .catch((err) => {
        if (errorCode(err) !== 'UNAUTHORIZED') session.end('Could not reach the server. Please sign in again.');
      });
  }, [token, user, onSetupPage]);

  if (onSetupPage) return <AccountSetup token={setupLink.token} onDone={() => setOnSetupPage(false)} />;
  if (!token) return <SignIn />;
  if (!user) return <p className="loading">Loading…</p>;
  if (user.mustChangePassword) return <ChangePassword required />;
  if (user.mustSetupTwoFactor) return <TwoFactorSetup />;

  const allowed = screensFor[user.role];
  const incident = route.screen === 'incident' && route.sub && mayExportIncident(user.role);
  const screen: Screen = incident ? 'incident' : allowed.includes(route.screen as Screen) ? (route.screen as Screen) : allowed[0]!;
  return (
    <Shell user={user} screen={screen} allowed={allowed}>
      {screen === 'board' ? <Board user={user} /> : null}
      {screen === 'mine' ? <MyAlerts user={user} /> : null}
      {screen === 'assignments' ? <Assignments user={user} /> : null}
      {screen === 'oncall' ? <OnCall user={user} /> : null}
      {screen === 'console' ? <Console user={user} /> : null}
      {screen === 'escalations' ? <Escalations /> : null}
      {screen === 'reach' ? <Reach /> : null}
      {screen === 'suppressions' ? <Suppressions user={user} /> : null}
      {screen === 'code' ? <CallCode user={user} /> : null}
      {screen === 'incident' ? (
        <Suspense fallback={<p className="loading">Loading…</p>}>
          <IncidentRecord alertId={decodeURIComponent(route.sub)} />
        </Suspense>
      ) : null}
      {screen === 'admin' ? (
        <Suspense fallback={<p className="loading">Loading…</p>}>
          <Admin sub={route.sub} user={user} />
        </Suspense>
      ) : null}
    </Shell>
  );
}
