import { useQuery } from '@tanstack/react-query';
import { PriorityBadge } from '../components/Priority.js';
import { errorMessage, useTRPC } from '../lib/api.js';
import { statusLabel, typeLabel } from '../lib/format.js';
import { channelLabel, timelineOf, zonedTime } from './timeline.js';
import './incident.css';

/**
 * #/incident/<alertId>: the signed incident record of one alert, laid out to be printed for a risk
 * team (print CSS: no navigation, black on white, tables that break between rows), and the signed
 * JSON exactly as the server signed it for `npm run incident:verify`. Loaded once: every load is an
 * audited export, so it is never refetched behind the reader's back.
 */
export function IncidentRecord({ alertId }: { alertId: string }) {
  const trpc = useTRPC();
  const q = useQuery({ ...trpc.alerts.incidentRecord.queryOptions({ alertId }), staleTime: Number.POSITIVE_INFINITY, refetchOnWindowFocus: false, refetchOnReconnect: false, retry: false });

  if (q.isError)
    return (
      <main className="incident">
        <h1>Incident record</h1>
        <p role="alert">{errorMessage(q.error)}</p>
      </main>
    );
  if (!q.data)
    return (
      <main className="incident">
        <h1>Incident record</h1>
        <p>Loading…</p>
      </main>
    );

  const { record: r, json, fileName, sha256 } = q.data;
  const tz = r.hospital.timezone;
  const at = (iso: string | null) => zonedTime(iso, tz);
  const name = new Map(r.people.map((p) => [p.id, p.name]));
  const person = (id: string | null) => (id ? (name.get(id) ?? 'a user') : 'system');
  const download = () => {
    const url = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = fileName;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1_000);
  };
  const a = r.alert;

  return (
    <main className="incident">
      <div className="incident-actions no-print">
        <button type="button" className="primary" onClick={download}>
          Download signed record (JSON)
        </button>
        <button type="button" onClick={() => window.print()}>
          Print
        </button>
      </div>
      <h1>Incident record: {a.title}</h1>
      <p className="incident-sub">
        <PriorityBadge priority={a.priority} /> {[a.roomNumber ? `Room ${a.roomNumber}` : null, a.departmentName, typeLabel(a.alertType), statusLabel[a.status] ?? a.status].filter(Boolean).join(' · ')}
      </p>
      <dl className="incident-facts">
        <dt>Hospital</dt>
        <dd>{r.hospital.name}</dd>
        <dt>Alert id</dt>
        <dd className="mono">{a.id}</dd>
        <dt>Raised</dt>
        <dd>
          {at(a.createdAt)}
          {a.createdByName ? ` by ${a.createdByName}` : ''} (source: {a.source})
        </dd>
        <dt>Times shown in</dt>
        <dd>{tz}</dd>
        <dt>Record made</dt>
        <dd>
          {at(r.generatedAt)} by {r.generatedBy.name}
        </dd>
      </dl>
      {a.description ? <p className="incident-desc">{a.description}</p> : null}

      <h2>Timeline</h2>
      <table className="incident-table">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">What happened</th>
            <th scope="col">Who</th>
            <th scope="col">Audit entry</th>
          </tr>
        </thead>
        <tbody>
          {timelineOf(r).map((row) => (
            <tr key={row.key}>
              <td className="nowrap">{at(row.at)}</td>
              <td>{row.what}</td>
              <td>{row.who}</td>
              <td className="mono">{row.audit ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>People paged</h2>
      {r.pages.length ? (
        <table className="incident-table">
          <thead>
            <tr>
              <th scope="col">Person</th>
              <th scope="col">Level</th>
              <th scope="col">Why</th>
              <th scope="col">Paged</th>
              <th scope="col">Read</th>
              <th scope="col">Answer</th>
            </tr>
          </thead>
          <tbody>
            {r.pages.map((p) => (
              <tr key={p.id}>
                <td>{person(p.userId)}</td>
                <td>{p.level}</td>
                <td>{p.reason}</td>
                <td className="nowrap">{at(p.pagedAt)}</td>
                <td className="nowrap">{p.readAt ? at(p.readAt) : 'Not read'}</td>
                <td>{p.response ? `${p.response === 'declined' ? 'Declined' : 'Acknowledged'} ${at(p.respondedAt)}${p.declineReason ? `: “${p.declineReason}”` : ''}` : 'No answer'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>Nobody was paged (screens only).</p>
      )}

      <h2>Notification attempts</h2>
      {r.attempts.length ? (
        <table className="incident-table">
          <thead>
            <tr>
              <th scope="col">To</th>
              <th scope="col">Channel</th>
              <th scope="col">Status</th>
              <th scope="col">Sent</th>
              <th scope="col">Delivered</th>
              <th scope="col">Provider id / error</th>
            </tr>
          </thead>
          <tbody>
            {r.attempts.map((x) => (
              <tr key={x.id}>
                <td>
                  {person(x.userId)}
                  {x.address ? <span className="mono"> {x.address}</span> : null}
                </td>
                <td>
                  {channelLabel(x.channel)} (step {x.step})
                </td>
                <td>
                  {x.status}
                  {x.tries > 1 ? `, ${x.tries} tries` : ''}
                </td>
                <td className="nowrap">{at(x.sentAt)}</td>
                <td className="nowrap">{at(x.deliveredAt)}</td>
                <td className="mono">{[x.providerId, x.error].filter(Boolean).join(' · ') || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>No message was sent off-screen.</p>
      )}

      <h2>Audit chain entries</h2>
      <table className="incident-table">
        <thead>
          <tr>
            <th scope="col">Seq</th>
            <th scope="col">Time</th>
            <th scope="col">Action</th>
            <th scope="col">By</th>
            <th scope="col">Hash</th>
          </tr>
        </thead>
        <tbody>
          {r.audit.map((e) => (
            <tr key={e.id}>
              <td>{e.seq}</td>
              <td className="nowrap">{at(`${e.timestamp.slice(0, 23)}Z`)}</td>
              <td>
                {e.action}
                {e.outcome === 'failure' ? ' (refused)' : ''}
              </td>
              <td>{person(e.userId)}</td>
              <td className="mono hash">{e.hash}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>Signature</h2>
      <dl className="incident-facts">
        <dt>Signed with</dt>
        <dd>
          Ed25519, key id <span className="mono">{r.signature.keyId}</span>
        </dd>
        <dt>Public key</dt>
        <dd className="mono hash">{r.signature.publicKey}</dd>
        <dt>SHA-256 of the file</dt>
        <dd className="mono hash">{sha256}</dd>
      </dl>
      <p className="incident-note">
        Check the downloaded file with <span className="mono">npm run incident:verify -- {fileName}</span>: it verifies the signature and recomputes each audit entry's
        hash; add <span className="mono">--database-url</span> to compare the entries with the live audit log.
      </p>
    </main>
  );
}
