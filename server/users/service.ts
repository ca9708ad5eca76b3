import { and, eq, type SQL, sql } from 'drizzle-orm';
import { deliverLink, issueLink } from '../accounts/links.js';
import type { SetupLink } from '../accounts/schemas.js';
import { logAuditEvent } from '../audit/log.js';
import type { Tx } from '../db/client.js';
import { statementName } from '../db/prepared.js';
import { departments, hospitals, users } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { badRequest, notFound } from '../errors.js';
import { checkPermission } from '../permissions.js';
import { publishControl } from '../realtime/control.js';
import { type CreateUserInput, clinicalRoles, DEPARTMENT_REQUIRED, type GetAllUsersInput, type UpdateUserInput, type User } from './schemas.js';
import {
  assignableDepartment,
  auditRefusal,
  type Caller,
  ensureEmailFree,
  findUser,
  lockUser,
  rethrowEmailRace,
  toUser,
  userColumns,
} from './shared.js';
import { newTemporaryPassword } from './temporary-password.js';

/** LIKE treats %, _ and the escape character as syntax: a search for "50%" means the text "50%". */
export const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * Case-insensitive substring match on name and email, written exactly as the expression of the
 * trigram index users_search_trgm_idx so Postgres can use it (emails are stored lower-case).
 */
export const userSearchCondition = (search: string): SQL =>
  sql`(lower(${users.name}) || ' ' || ${users.email}) LIKE '%' || lower(${escapeLike(search)}::text) || '%'`;

/** The page and count queries of users.getAll (exported so the query benchmark EXPLAINs exactly these). */
export function usersPageQueries(db: Tx, hospitalId: string, input: GetAllUsersInput) {
  const where = and(
    eq(users.hospitalId, hospitalId),
    input.role ? eq(users.role, input.role) : undefined,
    input.departmentId ? eq(users.departmentId, input.departmentId) : undefined,
    input.isActive === undefined ? undefined : eq(users.isActive, input.isActive),
    input.search ? userSearchCondition(input.search) : undefined,
  );
  // Deferred join: OFFSET skips entries of users_hospital_name_idx (hospital_id, name, id) in an
  // index-only scan, and only the page's rows are read from the table — page 2,000 costs ~1/10 of
  // skipping whole rows (docs/query-performance.md).
  // With a search, the matches are all read anyway (see below), so the window count comes with them
  // and the separate count query — a second trigram scan — is saved.
  const total = input.search ? sql<number>`count(*) OVER ()` : sql<number>`NULL`;
  const pageIds = db
    .select({ id: users.id, total: total.mapWith(Number).as('total') })
    .from(users)
    .where(where)
    // With a search, `name || ''` keeps the order but stops the planner from walking the name index
    // and filtering: it assumes matches spread evenly over the names, but "priya" (a first name) only
    // starts at P — a walk through 60,000 users (500 ms). Matching via the trigram index and sorting
    // the matches costs what the count (which reads them all anyway) costs.
    .orderBy(...(input.search ? [sql`${users.name} || ''`, users.id] : [users.name, users.id]))
    .limit(input.limit)
    .offset((input.page - 1) * input.limit)
    .as('page_ids');
  return {
    page: db
      .select({ ...userColumns, total: pageIds.total })
      .from(pageIds)
      .innerJoin(users, eq(users.id, pageIds.id))
      .leftJoin(departments, eq(departments.id, users.departmentId))
      .orderBy(users.name, users.id),
    count: db.select({ total: sql<number>`count(*)::int` }).from(users).where(where),
  };
}

export async function listUsers(db: Tx, hospitalId: string, input: GetAllUsersInput) {
  const q = usersPageQueries(db, hospitalId, input);
  // Named statements, one per filter shape (the name hashes the SQL text): the users page is a hot path.
  // Except with a search: a named statement soon gets a generic plan, which cannot see the pattern —
  // it then walks the name index for a rare term through all 100,000 users (~150 ms) where the custom
  // plan takes the trigram index (~1 ms). Parsing and planning cost ~0.3 ms; a custom plan is worth it.
  let rows: Awaited<typeof q.page>;
  let total: number;
  if (input.search) {
    rows = await q.page;
    // The window count rides on the page; only a page past the end needs the count on its own.
    total = rows[0]?.total ?? (input.page === 1 ? 0 : ((await q.count)[0]?.total ?? 0));
  } else {
    const [page, [counted]] = await Promise.all([
      q.page.prepare(statementName('users_page', q.page.toSQL().sql)).execute(),
      q.count.prepare(statementName('users_count', q.count.toSQL().sql)).execute(),
    ]);
    rows = page;
    total = counted?.total ?? 0;
  }
  return { users: rows.map(toUser), total, page: input.page, totalPages: Math.ceil(total / input.limit) };
}

/** Admins read anyone of their hospital; everyone else only their own record. Every view is audited. */
export async function getUser(deps: AppDeps, caller: Caller, id: string): Promise<User> {
  const entry = { action: 'user.viewed', resource: 'user', resourceId: id };
  // Checked before the record is looked at, so a refusal reveals nothing about the id.
  if (id !== caller.actor.id) await auditRefusal(deps, caller.audit, entry, async () => checkPermission(caller.actor, 'user.manage'));
  const user = await findUser(deps.db, caller.actor.hospitalId, id);
  if (!user) throw notFound('User');
  await logAuditEvent(deps.db, caller.audit, entry);
  return user;
}

/**
 * Creates a user with a one-time setup link (emailed when SMTP is configured, else returned to pass on)
 * and, for older clients, a temporary password returned once that must be changed at first sign-in.
 */
export async function createUser(
  deps: AppDeps,
  caller: Caller,
  input: CreateUserInput,
): Promise<{ user: User; temporaryPassword: string; setupLink: SetupLink }> {
  const hospitalId = caller.actor.hospitalId;
  const entry = { action: 'user.created', resource: 'user', metadata: { email: input.email, role: input.role, departmentId: input.departmentId ?? null } };
  return auditRefusal(deps, caller.audit, entry, async () => {
    if (input.departmentId) await assignableDepartment(deps.db, hospitalId, input.departmentId);
    await ensureEmailFree(deps.db, input.email);
    const temp = await newTemporaryPassword();
    const created = await deps.db
      .transaction(async (tx) => {
        const [row] = await tx
          .insert(users)
          .values({
            hospitalId,
            departmentId: input.departmentId ?? null,
            email: input.email,
            name: input.name,
            role: input.role,
            licenseNumber: input.licenseNumber ?? null,
            specialization: input.specialization ?? null,
            shiftSchedule: input.shiftSchedule ?? null,
            passwordHash: temp.hash,
            mustChangePassword: true,
          })
          .returning({ id: users.id });
        const newId = (row as { id: string }).id;
        await logAuditEvent(tx, caller.audit, { ...entry, resourceId: newId });
        return { newId, link: await issueLink(tx, deps.config, caller.audit, { userId: newId, hospitalId }, 'account_setup') };
      })
      .catch(rethrowEmailRace);
    const user = (await findUser(deps.db, hospitalId, created.newId)) as User;
    const [h] = await deps.db.select({ name: hospitals.name }).from(hospitals).where(eq(hospitals.id, hospitalId));
    const setupLink = await deliverLink(deps, caller.audit, created.link, { email: user.email, name: user.name, hospitalName: h?.name ?? '' });
    return { user, temporaryPassword: temp.password, setupLink };
  });
}

/** Profile fields; role changes go through updateRole. Only changed fields are written and audited. */
export async function updateUser(deps: AppDeps, caller: Caller, input: UpdateUserInput): Promise<User> {
  const hospitalId = caller.actor.hospitalId;
  const entry = { action: 'user.updated', resource: 'user', resourceId: input.id };
  let departmentChanged = false;
  const user = await auditRefusal(deps, caller.audit, entry, () =>
    deps.db
      .transaction(async (tx) => {
        const current = await lockUser(tx, hospitalId, input.id);
        const patch: Partial<typeof users.$inferInsert> = {};
        const changes: Record<string, { from: unknown; to: unknown }> = {};
        const set = <K extends keyof typeof users.$inferInsert & keyof User>(key: K, to: (typeof users.$inferInsert)[K] | undefined) => {
          if (to === undefined || JSON.stringify(to) === JSON.stringify(current[key])) return;
          patch[key] = to;
          changes[key] = { from: current[key], to };
        };
        set('name', input.name);
        set('licenseNumber', input.licenseNumber);
        set('specialization', input.specialization);
        set('shiftSchedule', input.shiftSchedule);
        if (input.email !== undefined && input.email !== current.email) {
          await ensureEmailFree(tx, input.email, current.id);
          set('email', input.email);
          patch.emailVerified = false; // the new address has not been confirmed
        }
        if (input.departmentId !== undefined && input.departmentId !== current.departmentId) {
          if (input.departmentId === null && clinicalRoles.includes(current.role)) {
            throw badRequest(DEPARTMENT_REQUIRED, { departmentId: [DEPARTMENT_REQUIRED] });
          }
          if (input.departmentId) await assignableDepartment(tx, hospitalId, input.departmentId);
          set('departmentId', input.departmentId);
          departmentChanged = true;
        }
        if (Object.keys(changes).length === 0) return current;
        await tx
          .update(users)
          .set({ ...patch, updatedAt: sql`now()` })
          .where(eq(users.id, current.id));
        await logAuditEvent(tx, caller.audit, { ...entry, metadata: { changed: Object.keys(changes), changes } });
        return (await findUser(tx, hospitalId, current.id)) as User;
      })
      .catch(rethrowEmailRace),
  );
  // A board filters by department: its sockets must reconnect with the new one.
  if (departmentChanged) publishControl(deps, { type: 'user.changed', userId: user.id, reason: 'department' });
  return user;
}
