import { sql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import type { TestEnv } from '../support/env.js';
import type { Tenants } from '../support/tenants.js';

/**
 * Alerts, acknowledgements, repeats, escalations and pages written straight into the tables with
 * known times (the alarm report reads history; the raise path has its own tests). Times are Berlin
 * wall-clock: the week of Monday 2 March 2026 (CET, UTC+1).
 */
export const ZONE = 'Europe/Berlin';
export const PERIOD = { from: '2026-03-01T23:00:00.000Z', to: '2026-03-08T23:00:00.000Z' };
export const at = (local: string) => DateTime.fromISO(local, { zone: ZONE }).toUTC().toISO() as string;

export interface AlertSpec {
  hospitalId: string;
  departmentId: string;
  raised: string; // local
  priority: 'critical' | 'high' | 'medium' | 'low';
  room?: string | null;
  source?: string;
  status?: string;
  /** Seconds after raising: the acknowledged_at column, and the first `acknowledged` event unless firstAck is given. */
  ackAfter?: number;
  firstAck?: number;
  title?: string;
  /** The alert's repeat_count (the repeats folded into it). */
  repeats?: number;
}

export async function insertAlert(env: TestEnv, a: AlertSpec): Promise<string> {
  const db = env.deps.db;
  const created = at(a.raised);
  const ackAt = a.ackAfter === undefined ? null : new Date(Date.parse(created) + a.ackAfter * 1000).toISOString();
  const status = a.status ?? (ackAt ? 'acknowledged' : 'active');
  const { rows } = await db.execute<{ id: string }>(sql`
    INSERT INTO alerts (hospital_id, department_id, title, priority, alert_type, room_number, status, source, repeat_count,
                        created_at, updated_at, last_raised_at, acknowledged_at, resolved_at, cancelled_at)
    VALUES (${a.hospitalId}, ${a.departmentId}, ${a.title ?? 'Alarm report fixture'}, ${a.priority}::alert_priority, 'medical', ${a.room ?? null},
            ${status}::alert_status, ${a.source ?? 'console'}, ${a.repeats ?? 0}, ${created}, ${created}, ${created}, ${ackAt},
            ${status === 'resolved' ? ackAt ?? created : null}, ${status === 'cancelled' ? created : null})
    RETURNING id`);
  const id = rows[0]!.id;
  await event(env, id, 'created', created);
  const first = a.firstAck ?? a.ackAfter;
  if (first !== undefined) await event(env, id, 'acknowledged', new Date(Date.parse(created) + first * 1000).toISOString());
  return id;
}

/** An alert event at an instant (UTC ISO); the type is cast from text so new enum values work too. */
export async function event(env: TestEnv, alertId: string, type: string, when: string): Promise<void> {
  await env.deps.db.execute(sql`
    INSERT INTO alert_events (hospital_id, department_id, alert_id, type, alert, occurred_at)
    SELECT hospital_id, department_id, id, ${type}::text::alert_event_type, '{}'::jsonb, ${when} FROM alerts WHERE id = ${alertId}`);
}

export async function escalate(env: TestEnv, alertId: string, toLevel: number, local: string): Promise<void> {
  await env.deps.db.execute(sql`
    INSERT INTO alert_escalations (alert_id, hospital_id, from_level, to_level, reason, escalated_at)
    SELECT id, hospital_id, ${toLevel - 1}, ${toLevel}, 'timeout', ${at(local)} FROM alerts WHERE id = ${alertId}`);
}

export async function page(env: TestEnv, alertId: string, userId: string, level: number, local: string, response?: 'acknowledged' | 'declined'): Promise<void> {
  const when = at(local);
  await env.deps.db.execute(sql`
    INSERT INTO alert_pages (hospital_id, alert_id, user_id, level, target, paged_at, responded_at, response)
    SELECT hospital_id, id, ${userId}, ${level}, 'department', ${when}, ${response ? when : null}, ${response ?? null}::page_response FROM alerts WHERE id = ${alertId}`);
}

/** Whether the alarm issue's statuses and event types (migration 0018) are in this database. */
export async function hasAlarmEnums(env: TestEnv): Promise<boolean> {
  const { rows } = await env.deps.db.execute<{ n: number }>(sql`
    SELECT count(*)::int AS n FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
    WHERE (t.typname = 'alert_status' AND e.enumlabel = 'suppressed') OR (t.typname = 'alert_event_type' AND e.enumlabel IN ('suppressed', 'shelved'))`);
  return rows[0]!.n === 3;
}

export async function setZone(env: TestEnv, hospitalId: string, zone = ZONE): Promise<void> {
  await env.deps.db.execute(sql`UPDATE hospitals SET settings = jsonb_set(settings, '{timezone}', to_jsonb(${zone}::text)) WHERE id = ${hospitalId}`);
}

/**
 * A realistic month for the screen and its screenshot: a deterministic pseudo-random load with a
 * morning-round and evening peak, monitors repeating, a few escalations and pages.
 */
export async function seedAlarmMonth(env: TestEnv, t: Tenants, startLocal: string, days: number): Promise<void> {
  const g = t.hospital.general;
  let seed = 7;
  const rand = () => {
    seed = (seed * 48271) % 2147483647;
    return seed / 2147483647;
  };
  const depts = [
    { id: g.departments.ICU, rooms: Array.from({ length: 12 }, (_, i) => String(301 + i)), sources: ['hl7:ICU monitors', 'hl7:ICU monitors', 'hl7:Infusion pumps', 'console'], weight: 5 },
    { id: g.departments.ER, rooms: Array.from({ length: 12 }, (_, i) => `E${i + 1}`), sources: ['api:Nurse call', 'console', 'api:Nurse call'], weight: 3 },
    { id: g.departments.CARD, rooms: Array.from({ length: 10 }, (_, i) => String(401 + i)), sources: ['hl7:Telemetry', 'console'], weight: 2 },
  ];
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)] as T;
  const hourWeight = (h: number) => (h >= 7 && h <= 10 ? 3 : h >= 17 && h <= 21 ? 2.5 : h >= 1 && h <= 5 ? 0.6 : 1.2);
  const nurses = [t.user('general', 'nurse.icu').id, t.user('general', 'nurse.er').id];
  const doctors = [t.user('general', 'doctor.icu').id, t.user('general', 'doctor.er').id, t.user('general', 'head').id];
  const start = DateTime.fromISO(startLocal, { zone: ZONE });
  const shelving = await hasAlarmEnums(env);
  for (let d = 0; d < days; d++) {
    for (let h = 0; h < 24; h++) {
      for (const dept of depts) {
        // Poisson-ish: the mean per hour, rounded at random so quiet night hours still see the odd alarm.
        const n = Math.floor(rand() * 2 * hourWeight(h) * dept.weight * 0.22 + rand());
        for (let i = 0; i < n; i++) {
          const raised = start.plus({ days: d, hours: h, minutes: Math.floor(rand() * 60) }).toISO({ includeOffset: false }) as string;
          const priority = pick(['critical', 'high', 'high', 'medium', 'medium', 'medium', 'low'] as const);
          const acked = rand() < 0.85;
          const ackAfter = acked ? Math.round(15 + rand() * rand() * (priority === 'critical' ? 120 : 700)) : undefined;
          const source = pick(dept.sources);
          const id = await insertAlert(env, { hospitalId: g.id, departmentId: dept.id, raised, priority, room: pick(dept.rooms), source, ackAfter, status: acked && rand() < 0.7 ? 'resolved' : undefined });
          await page(env, id, pick(nurses), 0, raised, acked ? 'acknowledged' : undefined);
          if (!acked || (ackAfter ?? 0) > 300) {
            const later = DateTime.fromISO(raised, { zone: ZONE }).plus({ minutes: 3 }).toISO({ includeOffset: false }) as string;
            await escalate(env, id, 1, later);
            await page(env, id, pick(doctors), 1, later);
            if (!acked && rand() < 0.4) await escalate(env, id, 2, DateTime.fromISO(later, { zone: ZONE }).plus({ minutes: 5 }).toISO({ includeOffset: false }) as string);
          }
          if (shelving && !acked && rand() < 0.25) await event(env, id, 'shelved', at(raised));
          const repeats = source.startsWith('hl7') && rand() < 0.4 ? Math.floor(rand() * 4) : 0;
          if (repeats) await env.deps.db.execute(sql`UPDATE alerts SET repeat_count = ${repeats} WHERE id = ${id}`);
          for (let r = 1; r <= repeats; r++) await event(env, id, 'repeated', at(DateTime.fromISO(raised, { zone: ZONE }).plus({ minutes: r }).toISO({ includeOffset: false }) as string));
        }
      }
    }
  }
  if (!shelving) return;
  // A telemetry drill on the ninth day, 14:00–15:00 in Cardiology: its raises were kept, paging nobody.
  const drill = start.plus({ days: 8, hours: 14 });
  const { rows } = await env.deps.db.execute<{ id: string }>(sql`
    INSERT INTO suppressions (hospital_id, department_id, starts_at, ends_at, reason)
    VALUES (${g.id}, ${g.departments.CARD}, ${drill.toUTC().toISO()}, ${drill.plus({ hours: 1 }).toUTC().toISO()}, 'Telemetry drill') RETURNING id`);
  for (let i = 0; i < 6; i++) {
    const raised = drill.plus({ minutes: 5 + i * 9 }).toISO({ includeOffset: false }) as string;
    const id = await insertAlert(env, { hospitalId: g.id, departmentId: g.departments.CARD, raised, priority: 'medium', room: '402', source: 'hl7:Telemetry' });
    await env.deps.db.execute(sql`UPDATE alerts SET status = 'suppressed', suppression_id = ${rows[0]!.id} WHERE id = ${id}`);
    await event(env, id, 'suppressed', at(raised));
  }
}
