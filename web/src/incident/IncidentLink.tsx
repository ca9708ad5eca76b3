import { useSession } from '../lib/session.js';

/** Who may open an alert's incident record (the server's 'alert.incident_record' permission). */
export const mayExportIncident = (role: string | undefined) => role === 'head_doctor' || role === 'admin';

/** "Incident record" beside an alert's timeline, for head doctors and admins only. */
export function IncidentLink({ alertId }: { alertId: string }) {
  const { user } = useSession();
  if (!mayExportIncident(user?.role)) return null;
  return (
    <a className="incident-link" href={`#/incident/${encodeURIComponent(alertId)}`}>
      Incident record (printable, signed)
    </a>
  );
}
