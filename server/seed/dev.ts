import { and, eq, sql } from 'drizzle-orm';
import type { AlertDeps } from '../alerts/change.js';
import { acknowledgeAlert, cancelAlert, createAlert, declineAlert, resolveAlert } from '../alerts/service.js';
import type { AuditContext } from '../audit/log.js';
import { hashPassword } from '../auth/passwords.js';
import type { Config } from '../config.js';
import type { Tx } from '../db/client.js';
import { alerts, departments, hospitals, users } from '../db/schema.js';
import { closeDeps, createDeps } from '../deps.js';
import { defaultHospitalSettings } from '../hospitals/settings.js';
import { createLogger, type Logger } from '../logger.js';
import { seedPeopleDemo } from './people.js';
import type { Actor, Role } from '../permissions.js';

export const DEV_PASSWORD = 'Clarion-dev-2026!';

export const devHospitals = [
  { slug: 'general', name: 'General Hospital', address: '1 Main Street', phone: '+1 555 0100' },
  { slug: 'riverside', name: 'Riverside Hospital', address: '20 River Road', phone: '+1 555 0200' },
] as const;

const roomRange = (prefix: string, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${from + i}`);

/** Rooms per department (the charge nurse assigns them; alerts' rooms match them). */
export const devDepartments = [
  { code: 'ER', name: 'Emergency', rooms: roomRange('E', 1, 12) },
  { code: 'ICU', name: 'Intensive Care', rooms: roomRange('', 301, 312) },
  { code: 'CARD', name: 'Cardiology', rooms: roomRange('', 401, 410) },
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

type Step = { by: string } & ({ action: 'acknowledge' | 'resolve' | 'cancel' } | { action: 'decline'; reason: string });

/**
 * The demo alerts, raised by the operator and moved on by the people who would: a critical waiting
 * for someone, a fall a nurse had to decline (so it escalated), an acknowledged one, a resolved and a
 * cancelled one. Waiting alerts get real deadlines, so they escalate like any other.
 */
const samples: { title: string; priority: 'critical' | 'high' | 'medium' | 'low'; alertType: string; roomNumber: string; department: string; steps: Step[] }[] = [
  { title: 'Cardiac arrest', priority: 'critical', alertType: 'medical', roomNumber: '312', department: 'ICU', steps: [] },
  {
    title: 'Patient fall',
    priority: 'high',
    alertType: 'medical',
    roomNumber: '104',
    department: 'ER',
    steps: [{ action: 'decline', by: 'nurse.er', reason: 'With a patient in resus, please send someone else' }],
  },
  { title: 'IV pump occlusion', priority: 'medium', alertType: 'equipment', roomNumber: '220', department: 'CARD', steps: [{ action: 'acknowledge', by: 'head' }] },
  {
    title: 'Smoke detector',
    priority: 'high',
    alertType: 'fire',
    roomNumber: 'B-2',
    department: 'ER',
    steps: [
      { action: 'acknowledge', by: 'nurse.er' },
      { action: 'resolve', by: 'nurse.er' },
    ],
  },
  { title: 'Visitor dispute', priority: 'low', alertType: 'security', roomNumber: 'Lobby', department: 'ER', steps: [{ action: 'cancel', by: 'operator' }] },
];

/**
 * The development data set of DESIGN.md. Idempotent: running it again changes nothing. Alerts go
 * through the alerts service, as real raises and responses do, so their rows, events, audit rows and
 * timers are the real ones. Never in production (demo accounts with a published password).
 */
export async function seedDevelopment(deps: AlertDeps, opts: { chain?: boolean } = {}): Promise<SeedReport> {
  if (deps.config.isProduction) throw new Error('refusing to seed a production database (demo accounts with a published password)');
  const passwordHash = await hashPassword(DEV_PASSWORD);
  const report: SeedReport = { hospitals: 0, users: 0, alerts: 0 };
  // Timers are scheduled after each commit without the caller waiting; a script exits only once they are.
  const pending: Promise<void>[] = [];
  const timers = deps.timers;
  const tracked: AlertDeps = timers
    ? { ...deps, timers: { afterChange: (a) => track(pending, timers.afterChange(a)) } }
    : deps;
  for (const h of devHospitals) {
    const people = await deps.db.transaction(async (tx) => {
      const p = await seedPeople(tx, h, passwordHash, report);
      await seedPeopleDemo(tx, p.hospitalId, p.dept, p.actor, opts.chain ?? false);
      return p;
    });
    report.alerts += await seedAlerts(tracked, people);
  }
  await Promise.all(pending);
  return report;
}

function track(pending: Promise<void>[], p: Promise<void>): Promise<void> {
  pending.push(p.catch(() => undefined));
  return p;
}

interface People {
  hospitalId: string;
  dept: Record<string, string>;
  actor: Record<string, Actor>;
}

async function seedPeople(tx: Tx, h: (typeof devHospitals)[number], passwordHash: string, report: SeedReport): Promise<People> {
  const [existing] = await tx.select({ id: hospitals.id }).from(hospitals).where(eq(hospitals.slug, h.slug));
  let hospitalId = existing?.id;
  if (!hospitalId) {
    // Demo hospitals do not require 2FA of admins (production's default does), so the demo signs in with a password.
    const settings = { ...defaultHospitalSettings, requireTwoFactorFor: [] };
    const [row] = await tx.insert(hospitals).values({ ...h, settings }).returning({ id: hospitals.id });
    hospitalId = (row as { id: string }).id;
    report.hospitals++;
  }
  const dept: Record<string, string> = {};
  for (const d of devDepartments) {
    await tx.insert(departments).values({ hospitalId, ...d, rooms: [...d.rooms] }).onConflictDoNothing();
    // Databases seeded before departments had rooms get them once; rooms an admin set are left alone.
    await tx
      .update(departments)
      .set({ rooms: [...d.rooms] })
      .where(and(eq(departments.hospitalId, hospitalId), eq(departments.code, d.code), sql`${departments.rooms} = '{}'::text[]`));
    const [row] = await tx
      .select({ id: departments.id })
      .from(departments)
      .where(and(eq(departments.hospitalId, hospitalId), eq(departments.code, d.code)));
    dept[d.code] = (row as { id: string }).id;
  }
  const actor: Record<string, Actor> = {};
  for (const a of devAccounts) {
    const email = devEmail(a.local, h.slug);
    const inserted = await tx
      .insert(users)
      .values({
        hospitalId,
        departmentId: a.department ? dept[a.department] : null,
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
    const [row] = await tx.select({ id: users.id, role: users.role, departmentId: users.departmentId }).from(users).where(eq(users.email, email));
    const u = row as { id: string; role: Role; departmentId: string | null };
    actor[a.local] = { id: u.id, role: u.role, hospitalId, departmentId: u.departmentId };
  }
  return { hospitalId, dept, actor };
}

const auditOf = (actor: Actor): AuditContext => ({ userId: actor.id, hospitalId: actor.hospitalId, ip: null, userAgent: 'clarion-seed', sessionId: null });

/** Each sample once per hospital: one already there (by title) is left alone, so a re-run adds nothing. */
async function seedAlerts(deps: AlertDeps, { hospitalId, dept, actor }: People): Promise<number> {
  const present = new Set((await deps.db.select({ title: alerts.title }).from(alerts).where(eq(alerts.hospitalId, hospitalId))).map((r) => r.title));
  let added = 0;
  for (const s of samples) {
    if (present.has(s.title)) continue;
    const operator = actor.operator as Actor;
    const alert = await createAlert(deps, operator, auditOf(operator), {
      title: s.title,
      priority: s.priority,
      alertType: s.alertType,
      roomNumber: s.roomNumber,
      departmentId: dept[s.department] as string,
    });
    for (const step of s.steps) {
      const by = actor[step.by] as Actor;
      const audit = auditOf(by);
      if (step.action === 'decline') await declineAlert(deps, by, audit, alert.id, step.reason);
      else await { acknowledge: acknowledgeAlert, resolve: resolveAlert, cancel: cancelAlert }[step.action](deps, by, audit, alert.id);
    }
    added++;
  }
  return added;
}

/** For scripts: the seed with dependencies of its own (pool, Redis for the timers), closed afterwards. */
export async function seedDevelopmentWith(config: Config, log: Logger = createLogger(config)): Promise<SeedReport> {
  const deps = createDeps(config, log);
  try {
    // The demo shows the escalation chain paging people (people issue); the tests' seed leaves it off.
    return await seedDevelopment(deps, { chain: true });
  } finally {
    await closeDeps(deps);
  }
}
