import { and, eq, inArray, isNotNull } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import { contacts, notificationRules, type priorities, users } from '../db/schema.js';
import { defaultRules, type HospitalDefaults } from './rules.js';
import { type Channel, rulesSchema } from './schemas.js';

/** One outbox row to write for a paged person: a verified contact, its step and delay. */
export interface PlannedStep {
  contactId: string;
  channel: Channel;
  step: number;
  delaySeconds: number;
}

/**
 * Each person's steps for a page of this priority: their own rules (else the defaults for their
 * role), each step on every verified contact of its channel (two phones ring together), a step with
 * no verified contact left out. Read just before the page is written, like the targets.
 */
export async function planSteps(
  db: Tx,
  hospitalId: string,
  userIds: string[],
  priority: (typeof priorities)[number],
  hospitalDefaults?: HospitalDefaults,
): Promise<Map<string, PlannedStep[]>> {
  const plan = new Map<string, PlannedStep[]>();
  if (!userIds.length) return plan;
  const [people, rules, verified] = await Promise.all([
    db.select({ id: users.id, role: users.role }).from(users).where(and(eq(users.hospitalId, hospitalId), inArray(users.id, userIds))),
    db.select({ userId: notificationRules.userId, rules: notificationRules.rules }).from(notificationRules).where(and(eq(notificationRules.hospitalId, hospitalId), inArray(notificationRules.userId, userIds))),
    db
      .select({ id: contacts.id, userId: contacts.userId, channel: contacts.channel })
      .from(contacts)
      .where(and(eq(contacts.hospitalId, hospitalId), inArray(contacts.userId, userIds), isNotNull(contacts.verifiedAt))),
  ]);
  const own = new Map(rules.map((r) => [r.userId, rulesSchema.safeParse(r.rules)]));
  for (const p of people) {
    const parsed = own.get(p.id);
    const steps = (parsed?.success ? parsed.data : defaultRules(p.role, hospitalDefaults))[priority];
    const mine = verified.filter((c) => c.userId === p.id);
    plan.set(
      p.id,
      steps.flatMap((s, step) => mine.filter((c) => c.channel === s.channel).map((c) => ({ contactId: c.id, channel: c.channel, step, delaySeconds: s.delaySeconds }))),
    );
  }
  return plan;
}
