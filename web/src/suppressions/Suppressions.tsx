import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { Suppression } from '../../../server/suppressions/schemas.js';
import { windowScope } from '../board/QuietStrip.js';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { client, errorMessage, useTRPC } from '../lib/api.js';
import { dateTime } from '../lib/format.js';
import type { SessionUser } from '../lib/session.js';
import { SuppressionForm } from './SuppressionForm.js';
import './Suppressions.css';

const STATE: Record<Suppression['state'], string> = { upcoming: 'Upcoming', running: 'Running', over: 'Over' };

/**
 * Suppression windows (head doctors, admins): set one, see each as upcoming, running or over with what
 * it kept quiet, and end one now (after a confirm). Ending never brings back what it kept quiet.
 */
export function Suppressions({ user }: { user: SessionUser }) {
  const trpc = useTRPC();
  const q = useQuery({ ...trpc.suppressions.list.queryOptions({ endedWithinHours: 24 * 7 }), refetchInterval: 30_000 });
  const [ending, setEnding] = useState<Suppression | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const end = async () => {
    if (!ending) return;
    setBusy(true);
    setError(null);
    try {
      await client.suppressions.end.mutate({ id: ending.id });
      setEnding(null);
      await q.refetch();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const rows = q.data?.suppressions ?? [];
  return (
    <main className="suppressions">
      <header className="page-head">
        <h1>Suppression windows</h1>
      </header>
      <SuppressionForm defaultDepartment={user.departmentId ?? null} onCreated={() => void q.refetch()} />
      <section className="card" aria-labelledby="windows-title">
        <h2 id="windows-title" className="card-title">
          Windows (upcoming, running, and over in the last 7 days)
        </h2>
        {q.isError ? <p role="alert">{errorMessage(q.error)}</p> : null}
        {q.isLoading ? <p role="status">Loading windows…</p> : null}
        {q.data && rows.length === 0 ? <p className="empty">No windows. Alerts raise as usual.</p> : null}
        {rows.length ? (
          <table className="stack-table" aria-label="Suppression windows">
            <thead>
              <tr>
                <th scope="col">State</th>
                <th scope="col">Reason</th>
                <th scope="col">Covers</th>
                <th scope="col">From – to</th>
                <th scope="col">Kept quiet</th>
                <th scope="col">Set by</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((s) => (
                <tr key={s.id} className={`window-${s.state}`}>
                  <td data-label="State">
                    <span className={`window-state window-state-${s.state}`}>{STATE[s.state]}</span>
                    {s.endedAt ? <div className="muted">ended {dateTime(s.endedAt)}{s.endedByName ? ` by ${s.endedByName}` : ''}</div> : null}
                  </td>
                  <td data-label="Reason">
                    <strong>{s.reason}</strong>
                  </td>
                  <td data-label="Covers">
                    {s.departmentName} · {windowScope(s)}
                  </td>
                  <td data-label="From – to">
                    {dateTime(s.startsAt)} – {dateTime(s.endsAt)}
                  </td>
                  <td data-label="Kept quiet">{s.suppressedCount}</td>
                  <td data-label="Set by">{s.createdByName ?? '—'}</td>
                  <td className="row-actions">
                    {s.state !== 'over' ? (
                      <button type="button" onClick={() => setEnding(s)} aria-label={`End now: ${s.reason}`}>
                        End now
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
      {ending ? (
        <ConfirmDialog
          title={`End “${ending.reason}” now?`}
          confirmLabel="Yes, end it now"
          busy={busy}
          error={error}
          onConfirm={() => void end()}
          onClose={() => {
            setEnding(null);
            setError(null);
          }}
        >
          <p>New alerts in {ending.departmentName} raise and page as usual from now on. The {ending.suppressedCount} it kept quiet stay as they are.</p>
        </ConfirmDialog>
      ) : null}
    </main>
  );
}
