import { and, eq, sql } from 'drizzle-orm';
import { logAuditEvent } from '../audit/log.js';
import { hashPassword } from '../auth/passwords.js';
import { defaultHospitalSettings } from '../hospitals/settings.js';
import type { Role } from '../permissions.js';
import type { Database, Tx } from './client.js';
import { alertEvents, alerts, departments, hospitals, users } from './schema.js';

export const DEV_PASSWORD = 'Clarion-dev-2026!';

export const devHospitals = [
  { slug: 'general', name: 'General Hospital', address: '1 Main Street', phone: '+1 555 0100' },
  { slug: 'riverside', name: 'Riverside Hospital', address: '20 River Road', phone: '+1 555 0200' },
] as const;

export const devDepartments = [
  { code: 'ER', name: 'Emergency' },
  { code: 'ICU', name: 'Intensive Care' },
  { code: 'CARD', name: 'Cardiology' },
] as const;

export const devAccounts: { local: string; name: string; role: Role; department?: string }[] = [
  { local: 'admin', name: 'Avery Admin', role: 'admin' },
  { local: 'operator', name: 'Olive Operator', role: 'operator' },
  { local: 'head', name: 'Dr. Harper Head', role: 'head_doctor' },
  { local: 'nurse.icu', name: 'Nia ICU Nurse', role: 'nurse', department: 'ICU' },
  { local: 'doctor.icu', name: 'Dr. Ivan ICU', role: 'doctor', department: 'ICU' },
  { local: 'nurse.er', name: 'Noah ER Nurse', role: 'nurse', department: 'ER' },
  { local: 'doctor.er', name: 'Dr. Emma ER', role: 'doctor', department: 'ER' },
];

export const devEmail = (local: string, slug: string) => `${local}@${slug}.test`;

export interface SeedReport {
  hospitals: number;
  users: number;
  alerts: number;
}

/** The development data set of DESIGN.md. Idempotent: running it again changes nothing. */
export async function seedDevelopment(db: Database): Promise<SeedReport> {
  const passwordHash = await hashPassword(DEV_PASSWORD);
  const report: SeedReport = { hospitals: 0, users: 0, alerts: 0 };
  for (const h of devHospitals) {
    await db.transaction(async (tx) => {
      const [existing] = await tx.select({ id: hospitals.id }).from(hospitals).where(eq(hospitals.slug, h.slug));
      let hospitalId = existing?.id;
      if (!hospitalId) {
        // Demo hospitals do not require 2FA of admins (production's default does), so the demo signs in with a password.
        const settings = { ...defaultHospitalSettings, requireTwoFactorFor: [] };
        const [row] = await tx.insert(hospitals).values({ ...h, settings }).returning({ id: hospitals.id });
        hospitalId = (row as { id: string }).id;
        report.hospitals++;
      }
      const deptIds: Record<string, string> = {};
      for (const d of devDepartments) {
        await tx.insert(departments).values({ hospitalId, ...d }).onConflictDoNothing();
        const [row] = await tx
          .select({ id: departments.id })
          .from(departments)
          .where(and(eq(departments.hospitalId, hospitalId), eq(departments.code, d.code)));
        deptIds[d.code] = (row as { id: string }).id;
      }
      const userIds: Record<string, string> = {};
      for (const a of devAccounts) {
        const email = devEmail(a.local, h.slug);
        const inserted = await tx
          .insert(users)
          .values({
            hospitalId,
            departmentId: a.department ? deptIds[a.department] : null,
            email,
            emailVerified: true,
            name: a.name,
            role: a.role,
            passwordHash,
            passwordChangedAt: new Date(),
          })
          .onConflictDoNothing()
          .returning({ id: users.id });
        if (inserted.length) report.users++;
        const [row] = await tx.select({ id: users.id }).from(users).where(eq(users.email, email));
        userIds[a.local] = (row as { id: string }).id;
      }
      const [{ n } = { n: 0 }] = await tx.select({ n: sql<number>`count(*)::int` }).from(alerts).where(eq(alerts.hospitalId, hospitalId));
      if (n === 0) report.alerts += await seedAlerts(tx, hospitalId, deptIds, userIds);
    });
  }
  return report;
}

type Snapshot = typeof alerts.$inferSelect;

async function seedAlerts(tx: Tx, hospitalId: string, dept: Record<string, string>, user: Record<string, string>): Promise<number> {
  const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);
  const samples = [
    { title: 'Cardiac arrest', priority: 'critical', alertType: 'medical', roomNumber: '312', department: 'ICU', status: 'active', escalationLevel: 0, at: 1 },
    { title: 'Patient fall', priority: 'high', alertType: 'medical', roomNumber: '104', department: 'ER', status: 'active', escalationLevel: 1, at: 6 },
    { title: 'IV pump occlusion', priority: 'medium', alertType: 'equipment', roomNumber: '220', department: 'CARD', status: 'acknowledged', escalationLevel: 0, at: 12 },
    { title: 'Smoke detector', priority: 'high', alertType: 'fire', roomNumber: 'B-2', department: 'ER', status: 'resolved', escalationLevel: 0, at: 90 },
    { title: 'Visitor dispute', priority: 'low', alertType: 'security', roomNumber: 'Lobby', department: 'ER', status: 'cancelled', escalationLevel: 0, at: 180 },
  ] as const;
  const actorFor = { acknowledged: user['nurse.icu'], resolved: user['nurse.er'], cancelled: user.operator } as Record<string, string | undefined>;
  for (const s of samples) {
    const created = minutesAgo(s.at);
    const later = minutesAgo(s.at - 0.5);
    const actor = actorFor[s.status] ?? null;
    const [row] = await tx
      .insert(alerts)
      .values({
        hospitalId,
        departmentId: dept[s.department] as string,
        title: s.title,
        priority: s.priority,
        alertType: s.alertType,
        roomNumber: s.roomNumber,
        status: s.status,
        escalationLevel: s.escalationLevel,
        version: 1 + (s.status === 'active' ? s.escalationLevel : 1),
        createdBy: user.operator,
        createdAt: created,
        updatedAt: later,
        ...(s.status === 'acknowledged' || s.status === 'resolved' ? { acknowledgedBy: actor, acknowledgedAt: later } : {}),
        ...(s.status === 'resolved' ? { resolvedBy: actor, resolvedAt: later } : {}),
        ...(s.status === 'cancelled' ? { cancelledBy: actor, cancelledAt: later } : {}),
      })
      .returning();
    const alert = row as Snapshot;
    const types: (typeof alertEvents.$inferInsert.type)[] = ['created'];
    if (s.escalationLevel > 0) types.push('escalated');
    if (s.status === 'acknowledged') types.push('acknowledged');
    if (s.status === 'resolved') types.push('acknowledged', 'resolved');
    if (s.status === 'cancelled') types.push('cancelled');
    await tx.execute(sql`SELECT clarion_hospital_lock(${hospitalId})`);
    for (const type of types) {
      await tx.insert(alertEvents).values({
        hospitalId,
        departmentId: alert.departmentId,
        alertId: alert.id,
        type,
        actorId: type === 'created' ? alert.createdBy : type === 'escalated' ? null : actor,
        alert: seedSnapshot(alert),
        escalationLevel: alert.escalationLevel,
        occurredAt: type === 'created' ? created : later,
      });
      await logAuditEvent(
        tx,
        { userId: type === 'escalated' ? null : type === 'created' ? (alert.createdBy ?? null) : actor, hospitalId, ip: null, userAgent: 'seed', sessionId: null },
        { action: `alert.${type}`, resource: 'alert', resourceId: alert.id, metadata: { seed: true } },
      );
    }
  }
  return samples.length;
}

/** Until the alerts service owns the snapshot shape, the seed stores the row with ISO timestamps. */
function seedSnapshot(a: Snapshot): Record<string, unknown> {
  return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]));
}
