import { useQuery } from '@tanstack/react-query';
import type { UnreachableUser } from '../../../../server/notifications/schemas.js';
import { errorMessage, useTRPC } from '../../lib/api.js';
import { priorityLabel, roleLabel } from '../../lib/format.js';
import './Unreachable.css';

const URGENT_FIRST = ['critical', 'high', 'medium', 'low'] as const;
const CHANNEL_WORDS: Record<string, string> = { push: 'Push', sms: 'SMS', voice: 'Phone call', email: 'Email', webhook: 'Webhook' };

/** "Critical and High", "All priorities": most urgent first, whatever order the server lists them in. */
function priorities(u: UnreachableUser): string {
  if (u.unreachable.length === URGENT_FIRST.length) return 'All priorities';
  const words = URGENT_FIRST.filter((p) => u.unreachable.includes(p)).map((p) => priorityLabel[p] as string);
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} and ${words.at(-1)}` : (words[0] ?? '');
}

/**
 * Admin › Reach: everyone a page would reach on the screens only, for some priority — no verified
 * phone, address or device for any step of their rules (notifications.unreachable). People on an
 * on-call schedule come first and are flagged: a page by rota that rings no phone is the silent gap.
 */
export function UnreachablePanel() {
  const trpc = useTRPC();
  const q = useQuery(trpc.notifications.unreachable.queryOptions());
  const users = q.data?.users ?? [];
  const onCall = users.filter((u) => u.schedules.length).length;
  return (
    <section aria-labelledby="unreachable-title" className="unreachable">
      <h1 id="unreachable-title">Who Clarion cannot reach beyond the screens</h1>
      <p className="muted">
        A page to these people shows on the ward screens and My alerts, but no phone rings for the priorities listed. Each person can add a phone, an email or a device
        on <strong>Reach me</strong>.
      </p>
      <p>
        <a className="unreachable-settings" href="#/admin/settings">
          Steps each role gets by default: Settings › Notifications
        </a>
      </p>
      {q.isPending ? (
        <p className="empty" role="status">
          Loading…
        </p>
      ) : null}
      {q.isError ? <p role="alert">{errorMessage(q.error)}</p> : null}
      {q.data && users.length === 0 ? <p className="empty unreachable-none">Everyone who can be paged has a phone or device set up.</p> : null}
      {users.length ? (
        <>
          <p className="unreachable-count">
            {users.length === 1 ? '1 person' : `${users.length} people`}
            {onCall ? `, ${onCall} of them on an on-call schedule` : ''}.
          </p>
          <div className="table-scroll">
            <table className="data stack-table">
              <caption className="sr-only">People reached on screens only</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Role</th>
                  <th scope="col">Department</th>
                  <th scope="col">Screens only for</th>
                  <th scope="col">Set up</th>
                  <th scope="col">On call</th>
                </tr>
              </thead>
              <tbody>
                {users.map((u) => (
                  <tr key={u.userId} className={u.schedules.length ? 'unreachable-oncall' : undefined}>
                    <td data-label="Name">
                      <strong>{u.name}</strong>
                      {u.schedules.length ? (
                        <>
                          {' '}
                          <span className="flag-oncall">On a schedule</span>
                        </>
                      ) : null}
                    </td>
                    <td data-label="Role">{roleLabel[u.role]}</td>
                    <td data-label="Department">{u.department ?? '—'}</td>
                    <td data-label="Screens only for">{priorities(u)}</td>
                    <td data-label="Set up">{u.verifiedChannels.length ? u.verifiedChannels.map((c) => CHANNEL_WORDS[c] ?? c).join(', ') : 'Nothing yet'}</td>
                    <td data-label="On call">{u.schedules.length ? u.schedules.join(', ') : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </section>
  );
}
