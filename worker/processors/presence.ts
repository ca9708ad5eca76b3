import { and, eq } from 'drizzle-orm';
import { createAlert } from '../../server/alerts/service.js';
import { departments, hospitals } from '../../server/db/schema.js';
import { readSettings } from '../../server/hospitals/settings.js';
import { maintenancePayload } from '../../server/jobs/queues.js';
import { screensOnline } from '../../server/realtime/presence.js';
import { redisKey } from '../../server/redis.js';
import type { Processor } from '../registry.js';
import { systemAudit } from './timers.js';

/**
 * A department that has had a board and has none online for longer than noScreenAlertAfterSeconds
 * gets a system alert (seen by head doctors, admins and operators). If Redis cannot be asked, nothing
 * is raised: an outage must not fire "no screen" alerts, and the "empty since" marks live in Redis
 * too, so after one the clock starts again while boards re-announce.
 */
export const presenceCheckProcessor: Processor<typeof maintenancePayload> = {
  queue: 'maintenance',
  name: 'presence-check',
  schema: maintenancePayload,
  async run(deps, _p, log) {
    const list = await deps.db.select({ id: hospitals.id, settings: hospitals.settings }).from(hospitals).where(eq(hospitals.isActive, true));
    let raised = 0;
    for (const h of list) {
      const after = readSettings(h.settings).noScreenAlertAfterSeconds * 1000;
      let online: Awaited<ReturnType<typeof screensOnline>>;
      try {
        online = await screensOnline(deps, h.id);
      } catch {
        return { raised, skipped: 'redis unavailable' };
      }
      const depts = await deps.db.select({ id: departments.id, name: departments.name }).from(departments).where(and(eq(departments.hospitalId, h.id), eq(departments.isActive, true)));
      for (const d of depts) {
        if (!online.known.has(d.id)) continue;
        const key = redisKey(deps.config.redis, 'presence-empty', h.id, d.id);
        if ((online.counts.get(d.id) ?? 0) > 0) {
          await deps.redis.del(key);
          continue;
        }
        await deps.redis.set(key, JSON.stringify({ since: Date.now(), alerted: false }), 'EX', 86_400, 'NX');
        const mark = JSON.parse((await deps.redis.get(key)) ?? '{}') as { since?: number; alerted?: boolean };
        if (mark.alerted || !mark.since || Date.now() - mark.since < after) continue;
        await createAlert(deps, null, systemAudit(h.id), {
          hospitalId: h.id,
          departmentId: d.id,
          title: `No screen online in ${d.name}`,
          description: `No ward board has been online in ${d.name} for ${Math.round((Date.now() - mark.since) / 60_000)} min. Alerts for this department may not be seen.`,
          priority: 'high',
          alertType: 'no-screen',
        });
        await deps.redis.set(key, JSON.stringify({ ...mark, alerted: true }), 'EX', 86_400);
        raised++;
        log.warn({ hospitalId: h.id, departmentId: d.id }, 'no screen online: system alert raised');
      }
    }
    return { raised };
  },
};
