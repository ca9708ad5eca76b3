import { and, eq, inArray, isNotNull } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import { contacts, departments, hospitals, notificationRules, scheduleParticipants, schedules, users } from '../db/schema.js';
import { readSettings } from '../hospitals/settings.js';
import { defaultRules, unreachablePriorities } from './rules.js';
import { type Rules, rulesSchema, type UnreachableUser } from './schemas.js';

/** The roles a page can find (operators and admins are never a level's target by role or assignment). */
const PAGEABLE = ['nurse', 'doctor', 'head_doctor'] as const;

/**
 * notifications.unreachable (admins): everyone who can be paged but would be reached on screens
 * only for some priority — no verified contact for any step of their rules. A person on a
 * schedule with nothing set up is the silent gap this list exists for, so they come first.
 */
export async function unreachableUsers(db: Tx, hospitalId: string): Promise<UnreachableUser[]> {
  const [people, [hospital], saved, verified, onSchedules] = await Promise.all([
    db
      .select({ id: users.id, name: users.name, role: users.role, department: departments.name })
      .from(users)
      .leftJoin(departments, eq(departments.id, users.departmentId))
      .where(and(eq(users.hospitalId, hospitalId), eq(users.isActive, true), inArray(users.role, [...PAGEABLE]))),
    db.select({ settings: hospitals.settings }).from(hospitals).where(eq(hospitals.id, hospitalId)),
    db.select({ userId: notificationRules.userId, rules: notificationRules.rules }).from(notificationRules).where(eq(notificationRules.hospitalId, hospitalId)),
    db
      .select({ userId: contacts.userId, channel: contacts.channel })
      .from(contacts)
      .where(and(eq(contacts.hospitalId, hospitalId), isNotNull(contacts.verifiedAt))),
    db
      .selectDistinct({ userId: scheduleParticipants.userId, name: schedules.name })
      .from(scheduleParticipants)
      .innerJoin(schedules, eq(schedules.id, scheduleParticipants.scheduleId))
      .where(and(eq(scheduleParticipants.hospitalId, hospitalId), eq(schedules.isActive, true))),
  ]);
  const defaults = readSettings(hospital?.settings).notificationDefaults;
  const own = new Map<string, Rules>();
  for (const r of saved) {
    const parsed = rulesSchema.safeParse(r.rules);
    if (parsed.success) own.set(r.userId, parsed.data);
  }
  const out: UnreachableUser[] = [];
  for (const p of people) {
    const rules = own.get(p.id) ?? defaultRules(p.role, defaults);
    const mine = verified.filter((c) => c.userId === p.id).map((c) => ({ channel: c.channel, verified: true }));
    const unreachable = unreachablePriorities(rules, mine);
    if (!unreachable.length) continue;
    out.push({
      userId: p.id,
      name: p.name,
      role: p.role,
      department: p.department,
      unreachable,
      verifiedChannels: [...new Set(mine.map((c) => c.channel))].sort(),
      schedules: onSchedules.filter((s) => s.userId === p.id).map((s) => s.name).sort(),
    });
  }
  return out.sort((a, b) => b.schedules.length - a.schedules.length || b.unreachable.length - a.unreachable.length || a.name.localeCompare(b.name));
}
