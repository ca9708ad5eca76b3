import { eq, inArray } from 'drizzle-orm';
import { deliverLinks, issueLinks } from '../accounts/links.js';
import type { SetupLink } from '../accounts/schemas.js';
import { logAuditEvent } from '../audit/log.js';
import { auditLogs, departments, hospitals, users } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { badRequest } from '../errors.js';
import { type BulkCreateInput, type BulkUserRow, bulkUserRowSchema, clinicalRoles, DEPARTMENT_REQUIRED, type User } from './schemas.js';
import { auditRefusal, type Caller, EMAIL_IN_USE, rethrowEmailRace, toUser } from './shared.js';
import { newTemporaryPassword } from './temporary-password.js';

type Dept = { id: string; code: string; name: string; isActive: boolean };
type ValidRow = BulkUserRow & { index: number; department: Dept | null };

/**
 * Validates every row and reports every problem at once, keyed `users.<row>.<field>` (rows count
 * from 0, as in the input array), so an admin fixes the whole CSV in one pass.
 */
async function validateRows(deps: AppDeps, hospitalId: string, input: BulkCreateInput): Promise<ValidRow[]> {
  const errors: Record<string, string[]> = {};
  const add = (i: number, field: string, message: string) => {
    const key = `users.${i}.${field}`;
    errors[key] = [...(errors[key] ?? []), message];
  };
  const depts = await deps.db
    .select({ id: departments.id, code: departments.code, name: departments.name, isActive: departments.isActive })
    .from(departments)
    .where(eq(departments.hospitalId, hospitalId));
  const byId = new Map(depts.map((d) => [d.id, d]));
  const byCode = new Map(depts.map((d) => [d.code, d]));

  const valid: ValidRow[] = [];
  const firstRowOfEmail = new Map<string, number>();
  input.users.forEach((raw, i) => {
    const parsed = bulkUserRowSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) add(i, issue.path.join('.') || 'row', issue.message);
      return;
    }
    const row = parsed.data;
    const first = firstRowOfEmail.get(row.email);
    if (first !== undefined) add(i, 'email', `Duplicate of row ${first} in this import`);
    else firstRowOfEmail.set(row.email, i);

    // An id of another hospital is as unknown here as an id that does not exist.
    const fromId = row.departmentId ? byId.get(row.departmentId) : undefined;
    const fromCode = row.departmentCode ? byCode.get(row.departmentCode) : undefined;
    if (row.departmentId && !fromId) add(i, 'departmentId', 'Unknown department');
    if (row.departmentCode && !fromCode) add(i, 'departmentCode', `Unknown department code ${row.departmentCode}`);
    if (fromId && fromCode && fromId.id !== fromCode.id) add(i, 'departmentCode', 'The department id and code name different departments');
    const department = fromId ?? fromCode ?? null;
    if (department && !department.isActive) add(i, 'departmentId', `Department ${department.code} is inactive`);
    if (!row.departmentId && !row.departmentCode && clinicalRoles.includes(row.role)) add(i, 'departmentId', DEPARTMENT_REQUIRED);
    valid.push({ ...row, index: i, department });
  });

  const emails = [...firstRowOfEmail.keys()];
  if (emails.length) {
    const taken = await deps.db.select({ email: users.email }).from(users).where(inArray(users.email, emails));
    for (const { email } of taken) add(firstRowOfEmail.get(email) as number, 'email', EMAIL_IN_USE);
  }
  const bad = new Set(Object.keys(errors).map((k) => k.split('.')[1]));
  if (bad.size) {
    throw badRequest(`${bad.size} of ${input.users.length} rows have errors; nothing was created`, errors);
  }
  return valid;
}

/** All-or-nothing import of up to 500 users, each with a temporary password returned once. */
export async function bulkCreateUsers(
  deps: AppDeps,
  caller: Caller,
  input: BulkCreateInput,
): Promise<{ created: { user: User; temporaryPassword: string; setupLink: SetupLink }[] }> {
  const hospitalId = caller.actor.hospitalId;
  const rows = await validateRows(deps, hospitalId, input);
  // Cheap-cost scrypt on random secrets, all at once on the libuv pool (see temporary-password.ts).
  const temps = await Promise.all(rows.map(() => newTemporaryPassword()));
  const entry = { action: 'user.bulk_created', resource: 'user', metadata: { count: rows.length } };
  const result = await auditRefusal(deps, caller.audit, entry, () =>
    deps.db
      .transaction(async (tx) => {
        const inserted = await tx
          .insert(users)
          .values(
            rows.map((r, i) => ({
              hospitalId,
              departmentId: r.department?.id ?? null,
              email: r.email,
              name: r.name,
              role: r.role,
              licenseNumber: r.licenseNumber ?? null,
              specialization: r.specialization ?? null,
              passwordHash: (temps[i] as { hash: string }).hash,
              mustChangePassword: true,
            })),
          )
          .returning();
        const byEmail = new Map(inserted.map((u) => [u.email, u]));
        const created = rows.map((r, i) => {
          const u = byEmail.get(r.email) as (typeof inserted)[number];
          return { user: toUser({ ...u, departmentName: r.department?.name ?? null }), temporaryPassword: (temps[i] as { password: string }).password };
        });
        // One row per created user (found by resource id like any other creation), in one statement:
        // 100 single-row inserts would cost more than the import itself. Same fields as logAuditEvent;
        // the metadata holds no secret. The chain trigger still links each row under the hospital lock.
        await tx.insert(auditLogs).values(
          created.map(({ user }) => ({
            userId: caller.audit.userId,
            hospitalId: caller.audit.hospitalId,
            action: 'user.created',
            resource: 'user',
            resourceId: user.id,
            outcome: 'success' as const,
            ipAddress: caller.audit.ip,
            userAgent: caller.audit.userAgent,
            sessionId: caller.audit.sessionId,
            metadata: { email: user.email, role: user.role, departmentId: user.departmentId, bulk: true },
          })),
        );
        await logAuditEvent(tx, caller.audit, { ...entry, metadata: { count: created.length, userIds: created.map((c) => c.user.id) } });
        const links = await issueLinks(tx, deps.config, caller.audit, created.map(({ user }) => ({ userId: user.id, hospitalId })));
        return { created, links };
      })
      .catch(rethrowEmailRace),
  );
  // Emailed (or handed to the admin) after commit, as for a single user.
  const [h] = await deps.db.select({ name: hospitals.name }).from(hospitals).where(eq(hospitals.id, hospitalId));
  const setupLinks = await deliverLinks(
    deps,
    caller.audit,
    result.created.map(({ user }, i) => ({ link: result.links[i] as (typeof result.links)[number], to: { email: user.email, name: user.name, hospitalName: h?.name ?? '' } })),
  );
  return { created: result.created.map((c, i) => ({ ...c, setupLink: setupLinks[i] as SetupLink })) };
}
