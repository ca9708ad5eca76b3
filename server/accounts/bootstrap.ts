import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { type AuditContext, logAuditEvent } from '../audit/log.js';
import { clearFailures } from '../auth/lockout.js';
import { revokeSessions } from '../auth/sessions.js';
import { zEmail, zText } from '../common/schemas.js';
import type { Tx } from '../db/client.js';
import { departments, hospitals, userBackupCodes, users } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { createDepartmentInput } from '../hospitals/schemas.js';
import { defaultHospitalSettings } from '../hospitals/settings.js';
import { publishControl } from '../realtime/control.js';
import { userNameSchema } from '../users/schemas.js';
import { deliverLink, type IssuedLink, issueLink } from './links.js';
import { accountAuditActions as A, ADMIN_CLI_AGENT, type SetupLink } from './schemas.js';

/**
 * What the admin CLI (scripts/admin.ts) does, as services: bootstrap a hospital and its first admin,
 * add departments, and recover an admin's lost access. Every step is idempotent where it can be, says
 * what already existed, and is audited on the hospital's chain with no actor and the CLI's user agent
 * (the operating-system account that ran it goes in the metadata).
 */
export type CliDeps = Pick<AppDeps, 'config' | 'db' | 'log' | 'redis'>;

/** Problems an operator must fix (bad input, an email owned by another account); the CLI prints them. */
export class BootstrapError extends Error {
  override name = 'BootstrapError';
}

export const slugSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'Use lower-case letters, digits and dashes (at most 63), starting with a letter or digit');

export const createHospitalInput = z.object({
  name: zText(200).pipe(z.string().min(2, 'Enter at least 2 characters')),
  slug: slugSchema,
  adminEmail: zEmail,
  adminName: userNameSchema.default('Administrator'),
  departments: z
    .array(createDepartmentInput)
    .max(200)
    .default([])
    .refine((ds) => new Set(ds.map((d) => d.code)).size === ds.length, 'Department codes must be unique'),
});
export type CreateHospitalInput = z.input<typeof createHospitalInput>;

const cliAudit = (hospitalId: string): AuditContext => ({ userId: null, hospitalId, ip: null, userAgent: ADMIN_CLI_AGENT, sessionId: null });

export interface Created {
  id: string;
  created: boolean;
}
export interface HospitalReport {
  hospital: Created & { slug: string; name: string };
  departments: (Created & { code: string; name: string })[];
  admin: Created & { email: string; setupPending: boolean };
  /** A new link (null when the admin has already set a password: use reset-admin). */
  link: (SetupLink & { url: string }) | null;
}

async function ensureDepartment(tx: Tx, audit: AuditContext, hospitalId: string, d: { code: string; name: string }, by: Record<string, unknown>) {
  const [inserted] = await tx.insert(departments).values({ hospitalId, code: d.code, name: d.name }).onConflictDoNothing().returning({ id: departments.id });
  if (inserted) {
    await logAuditEvent(tx, audit, { action: 'department.created', resource: 'department', resourceId: inserted.id, metadata: { code: d.code, name: d.name, ...by } });
    return { id: inserted.id, code: d.code, name: d.name, created: true };
  }
  const [existing] = await tx
    .select({ id: departments.id, name: departments.name })
    .from(departments)
    .where(and(eq(departments.hospitalId, hospitalId), eq(departments.code, d.code)));
  return { id: (existing as { id: string }).id, code: d.code, name: (existing as { name: string }).name, created: false };
}

/** The link is emailed when SMTP is configured; the CLI prints it either way (its operator is trusted). */
async function handOut(deps: CliDeps, audit: AuditContext, link: IssuedLink, to: { email: string; name: string; hospitalName: string }) {
  const delivered = await deliverLink(deps, audit, link, to);
  return { ...delivered, url: link.url };
}

export async function createHospital(deps: CliDeps, raw: CreateHospitalInput, osUser: string): Promise<HospitalReport> {
  const input = createHospitalInput.parse(raw);
  const by = { via: 'admin-cli', osUser };
  const result = await deps.db.transaction(async (tx) => {
    // Serialises concurrent bootstraps of the same slug (ON CONFLICT alone would let both go on).
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`clarion:bootstrap:${input.slug}`}, 0))`);
    const [inserted] = await tx
      .insert(hospitals)
      .values({ name: input.name, slug: input.slug, settings: defaultHospitalSettings })
      .onConflictDoNothing()
      .returning({ id: hospitals.id, name: hospitals.name });
    const hospital = inserted ?? (await tx.select({ id: hospitals.id, name: hospitals.name }).from(hospitals).where(eq(hospitals.slug, input.slug)))[0];
    if (!hospital) throw new BootstrapError(`could not create or find hospital ${input.slug}`);
    const audit = cliAudit(hospital.id);
    if (inserted) {
      await logAuditEvent(tx, audit, { action: 'hospital.created', resource: 'hospital', resourceId: hospital.id, metadata: { name: input.name, slug: input.slug, ...by } });
    }
    const depts = [];
    for (const d of input.departments) depts.push(await ensureDepartment(tx, audit, hospital.id, d, by));

    const [existing] = await tx
      .select({ id: users.id, hospitalId: users.hospitalId, role: users.role, name: users.name, passwordHash: users.passwordHash, isActive: users.isActive })
      .from(users)
      .where(eq(users.email, input.adminEmail))
      .for('no key update');
    if (existing && (existing.hospitalId !== hospital.id || existing.role !== 'admin')) {
      throw new BootstrapError(`${input.adminEmail} already belongs to another account (${existing.role} of another hospital or not an admin); choose another email`);
    }
    let adminId = existing?.id;
    if (!existing) {
      const [row] = await tx
        .insert(users)
        .values({ hospitalId: hospital.id, email: input.adminEmail, name: input.adminName, role: 'admin', passwordHash: null, mustChangePassword: true })
        .returning({ id: users.id });
      adminId = (row as { id: string }).id;
      await logAuditEvent(tx, audit, { action: 'user.created', resource: 'user', resourceId: adminId, metadata: { email: input.adminEmail, role: 'admin', bootstrap: true, ...by } });
    }
    // A new admin, or one who never finished setup (the first link was lost): a fresh link. An admin
    // who has a password keeps it; recovering lost access is reset-admin's job.
    const setupPending = !existing?.passwordHash;
    const link = setupPending && (existing?.isActive ?? true) ? await issueLink(tx, deps.config, audit, { userId: adminId as string, hospitalId: hospital.id }, 'account_setup') : null;
    return {
      audit,
      hospital: { id: hospital.id, slug: input.slug, name: hospital.name, created: !!inserted },
      departments: depts,
      admin: { id: adminId as string, email: input.adminEmail, created: !existing, setupPending },
      link,
      adminName: existing?.name ?? input.adminName,
    };
  });
  const link = result.link ? await handOut(deps, result.audit, result.link, { email: input.adminEmail, name: result.adminName, hospitalName: result.hospital.name }) : null;
  return { hospital: result.hospital, departments: result.departments, admin: result.admin, link };
}

export async function createDepartmentBySlug(deps: CliDeps, raw: { hospital: string; code: string; name: string }, osUser: string) {
  const slug = slugSchema.parse(raw.hospital);
  const dept = createDepartmentInput.parse({ code: raw.code, name: raw.name });
  return deps.db.transaction(async (tx) => {
    const [hospital] = await tx.select({ id: hospitals.id }).from(hospitals).where(eq(hospitals.slug, slug));
    if (!hospital) throw new BootstrapError(`no hospital with slug "${slug}" (create-hospital first)`);
    return ensureDepartment(tx, cliAudit(hospital.id), hospital.id, dept, { via: 'admin-cli', osUser });
  });
}

/**
 * Lost-access recovery for an admin: ends every session (live sockets close on every instance),
 * removes the password, 2FA and backup codes (a lost phone is the usual cause, and a leaked password
 * must stop working at once), lifts any lockout, and issues a password-reset link. The admin sets a
 * new password with the link and, where the hospital requires 2FA for admins, enrols a new device.
 */
export async function resetAdmin(deps: CliDeps, rawEmail: string, osUser: string): Promise<{ userId: string; hospitalSlug: string; revokedSessions: number; twoFactorCleared: boolean; link: SetupLink & { url: string } }> {
  const email = zEmail.parse(rawEmail);
  const done = await deps.db.transaction(async (tx) => {
    const [user] = await tx
      .select({ id: users.id, hospitalId: users.hospitalId, role: users.role, name: users.name, isActive: users.isActive, twoFactorEnabled: users.twoFactorEnabled })
      .from(users)
      .where(eq(users.email, email))
      .for('no key update');
    if (!user) throw new BootstrapError(`no user with email ${email}`);
    if (user.role !== 'admin') throw new BootstrapError(`${email} is a ${user.role}, not an admin: their hospital's admin issues them a new link (accounts.issueSetupLink)`);
    if (!user.isActive) throw new BootstrapError(`${email} is deactivated; another admin of the hospital must reactivate them first`);
    const [hospital] = await tx.select({ slug: hospitals.slug, name: hospitals.name }).from(hospitals).where(eq(hospitals.id, user.hospitalId));
    const audit = cliAudit(user.hospitalId);
    await tx
      .update(users)
      .set({ passwordHash: null, mustChangePassword: true, twoFactorEnabled: false, twoFactorSecret: null, isLocked: false, lockoutUntil: null, failedLoginAttempts: 0, updatedAt: sql`now()` })
      .where(eq(users.id, user.id));
    await tx.delete(userBackupCodes).where(eq(userBackupCodes.userId, user.id));
    await clearFailures(tx, user.id);
    const revoked = await revokeSessions(tx, { userId: user.id }, 'admin_reset');
    await logAuditEvent(tx, audit, {
      action: A.adminReset,
      resource: 'user',
      resourceId: user.id,
      metadata: { revokedSessions: revoked.length, twoFactorCleared: user.twoFactorEnabled, via: 'admin-cli', osUser },
    });
    const link = await issueLink(tx, deps.config, audit, { userId: user.id, hospitalId: user.hospitalId }, 'password_reset');
    return { user, hospital: hospital as { slug: string; name: string }, audit, revoked, link };
  });
  if (done.revoked.length) publishControl(deps, { type: 'sessions.revoked', sessionIds: done.revoked });
  publishControl(deps, { type: 'user.changed', userId: done.user.id, reason: 'password' });
  const link = await handOut(deps, done.audit, done.link, { email, name: done.user.name, hospitalName: done.hospital.name });
  return { userId: done.user.id, hospitalSlug: done.hospital.slug, revokedSessions: done.revoked.length, twoFactorCleared: done.user.twoFactorEnabled, link };
}
