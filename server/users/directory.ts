import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import { departments, users } from '../db/schema.js';
import { notFound } from '../errors.js';
import type { DirectoryEntry, DirectoryInput } from './schemas.js';

/** The most a picker lists: a large hospital's whole staff fits; a longer list wants a search box. */
const MAX_DIRECTORY = 2_000;

/** Active staff of the caller's hospital, by name; never another hospital's (the department is checked too). */
export async function listDirectory(db: Tx, hospitalId: string, input: DirectoryInput): Promise<DirectoryEntry[]> {
  if (input?.departmentId) {
    const [dept] = await db
      .select({ id: departments.id })
      .from(departments)
      .where(and(eq(departments.hospitalId, hospitalId), eq(departments.id, input.departmentId)));
    if (!dept) throw notFound('Department');
  }
  return db
    .select({ id: users.id, name: users.name, role: users.role, departmentId: users.departmentId, departmentName: departments.name })
    .from(users)
    .leftJoin(departments, eq(departments.id, users.departmentId))
    .where(
      and(
        eq(users.hospitalId, hospitalId),
        eq(users.isActive, true),
        input?.departmentId ? eq(users.departmentId, input.departmentId) : undefined,
        input?.roles ? inArray(users.role, input.roles) : undefined,
      ),
    )
    .orderBy(asc(users.name), asc(users.id))
    .limit(MAX_DIRECTORY);
}
