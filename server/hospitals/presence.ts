import { and, eq } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import { departments } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { screensOnline } from '../realtime/presence.js';

/**
 * Screens online per active department, across every server instance. `known: false` when Redis
 * cannot be asked: the console then says it does not know, rather than "no screens".
 */
export async function getPresence(deps: Pick<AppDeps, 'config' | 'redis'> & { db: Tx }, hospitalId: string) {
  const depts = await deps.db
    .select({ id: departments.id })
    .from(departments)
    .where(and(eq(departments.hospitalId, hospitalId), eq(departments.isActive, true)))
    .orderBy(departments.code);
  try {
    const { counts } = await screensOnline(deps, hospitalId);
    return { known: true, departments: depts.map((d) => ({ departmentId: d.id, screensOnline: counts.get(d.id) ?? 0 })) };
  } catch {
    return { known: false, departments: depts.map((d) => ({ departmentId: d.id, screensOnline: 0 })) };
  }
}
