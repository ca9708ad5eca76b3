import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Tx } from '../db/client.js';

export const alertResponseSchema = z.object({
  /** Time from raised to acknowledged, per department and priority, for alerts raised in the period. */
  timeToAcknowledge: z.array(
    z.object({
      departmentId: z.string(),
      departmentName: z.string(),
      priority: z.string(),
      acknowledged: z.number().int(),
      medianSeconds: z.number(),
      p90Seconds: z.number(),
    }),
  ),
  byStatus: z.array(z.object({ status: z.string(), count: z.number().int() })),
  escalationsByLevel: z.array(z.object({ level: z.number().int(), count: z.number().int() })),
  eventsPerDay: z.array(z.object({ day: z.string(), count: z.number().int() })),
});
export type AlertResponse = z.infer<typeof alertResponseSchema>;

/** Alert response figures of a hospital for a period (alerts raised within it), for the compliance report. */
export async function alertResponseFigures(db: Tx, hospitalId: string, period: { from: string; to: string }): Promise<AlertResponse> {
  const from = new Date(period.from);
  const to = new Date(period.to);
  const [ack, status, levels, days] = await Promise.all([
    db.execute<{ department_id: string; department_name: string; priority: string; n: number; median: number; p90: number }>(sql`
      SELECT a.department_id, d.name AS department_name, a.priority::text, count(*)::int AS n,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.acknowledged_at - a.created_at))::float AS median,
             percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM a.acknowledged_at - a.created_at))::float AS p90
      FROM alerts a JOIN departments d ON d.id = a.department_id
      WHERE a.hospital_id = ${hospitalId} AND a.created_at >= ${from} AND a.created_at < ${to} AND a.acknowledged_at IS NOT NULL
      GROUP BY a.department_id, d.name, a.priority ORDER BY d.name, a.priority DESC`),
    db.execute<{ status: string; n: number }>(sql`
      SELECT status::text, count(*)::int AS n FROM alerts
      WHERE hospital_id = ${hospitalId} AND created_at >= ${from} AND created_at < ${to} GROUP BY status ORDER BY status`),
    db.execute<{ level: number; n: number }>(sql`
      SELECT to_level AS level, count(*)::int AS n FROM alert_escalations
      WHERE hospital_id = ${hospitalId} AND escalated_at >= ${from} AND escalated_at < ${to} GROUP BY to_level ORDER BY to_level`),
    db.execute<{ day: string; n: number }>(sql`
      SELECT to_char(date_trunc('day', occurred_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day, count(*)::int AS n FROM alert_events
      WHERE hospital_id = ${hospitalId} AND occurred_at >= ${from} AND occurred_at < ${to} GROUP BY 1 ORDER BY 1`),
  ]);
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    timeToAcknowledge: ack.rows.map((r) => ({
      departmentId: r.department_id,
      departmentName: r.department_name,
      priority: r.priority,
      acknowledged: r.n,
      medianSeconds: round(r.median),
      p90Seconds: round(r.p90),
    })),
    byStatus: status.rows.map((r) => ({ status: r.status, count: r.n })),
    escalationsByLevel: levels.rows.map((r) => ({ level: r.level, count: r.n })),
    eventsPerDay: days.rows.map((r) => ({ day: r.day, count: r.n })),
  };
}
