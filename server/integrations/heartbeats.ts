import { sql } from 'drizzle-orm';
import type { AlertDeps } from '../alerts/change.js';
import { createAlert, systemResolve } from '../alerts/service.js';
import type { AuditContext } from '../audit/log.js';

/*
 * Feed heartbeats: an API key or an HL7 source that declared `heartbeatSeconds` and has been silent
 * longer raises one system alert ("ICU monitor gateway silent for 5 min", high, for head doctors and
 * admins, who see the whole hospital), and its return resolves it. The alert's external id is the
 * feed's, so a second worker's check folds into the same alert instead of raising another.
 */
export const HEARTBEAT_CHECK_MS = 15_000;
export const HEARTBEAT_SOURCE = 'system';

type Feed = { kind: 'key' | 'hl7'; id: string; hospital_id: string; name: string; heartbeat_seconds: number; silent: boolean; open_alert: string | null; department_id: string | null };

const audit = (hospitalId: string): AuditContext => ({ userId: null, hospitalId, ip: null, userAgent: 'clarion-heartbeat', sessionId: null });
const externalId = (f: Pick<Feed, 'kind' | 'id'>) => `heartbeat:${f.kind}:${f.id}`;
const silence = (seconds: number) => (seconds >= 120 ? `${Math.round(seconds / 60)} min` : `${seconds} s`);

export async function checkFeedHeartbeats(deps: AlertDeps): Promise<{ raised: number; resolved: number }> {
  const { rows } = await deps.db.execute<Feed>(sql`
    WITH feeds AS (
      SELECT 'key' AS kind, k.id, k.hospital_id, k.name, k.heartbeat_seconds,
             coalesce(k.last_used_at, k.created_at) < now() - make_interval(secs => k.heartbeat_seconds) AS silent, NULL::text AS mapped
      FROM api_keys k WHERE k.heartbeat_seconds IS NOT NULL AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
      UNION ALL
      SELECT 'hl7', s.id, s.hospital_id, s.name, s.heartbeat_seconds,
             coalesce(s.last_message_at, s.created_at) < now() - make_interval(secs => s.heartbeat_seconds),
             (SELECT value FROM jsonb_each_text(s.departments) LIMIT 1)
      FROM hl7_sources s WHERE s.heartbeat_seconds IS NOT NULL AND s.is_active)
    SELECT f.kind, f.id, f.hospital_id, f.name, f.heartbeat_seconds, f.silent,
           (SELECT a.id FROM alerts a WHERE a.hospital_id = f.hospital_id AND a.source = ${HEARTBEAT_SOURCE}
              AND a.external_id = 'heartbeat:' || f.kind || ':' || f.id AND a.status IN ('active', 'acknowledged', 'shelved')) AS open_alert,
           coalesce((SELECT d.id FROM departments d WHERE d.id = f.mapped AND d.hospital_id = f.hospital_id AND d.is_active),
                    (SELECT d.id FROM departments d WHERE d.hospital_id = f.hospital_id AND d.is_active ORDER BY d.created_at, d.id LIMIT 1)) AS department_id
    FROM feeds f`);
  let raised = 0;
  let resolved = 0;
  for (const f of rows) {
    if (f.silent && !f.open_alert && f.department_id) {
      await createAlert(deps, null, audit(f.hospital_id), {
        hospitalId: f.hospital_id,
        departmentId: f.department_id,
        title: `${f.name} silent for ${silence(f.heartbeat_seconds)}`,
        description: `No message from this ${f.kind === 'hl7' ? 'HL7 feed' : 'API integration'} for longer than its heartbeat: alarms it sends may not be reaching Clarion. Check the device or gateway.`,
        priority: 'high',
        alertType: 'technical',
        source: HEARTBEAT_SOURCE,
        externalId: externalId(f),
      });
      raised++;
    } else if (!f.silent && f.open_alert) {
      if (await systemResolve(deps, f.hospital_id, audit(f.hospital_id), f.open_alert, 'feed_back')) resolved++;
    }
  }
  return { raised, resolved };
}
