import { and, eq } from 'drizzle-orm';
import { type AuditContext, logAuditEvent } from '../audit/log.js';
import type { Tx } from '../db/client.js';
import { contacts, hospitals, notificationRules, priorities } from '../db/schema.js';
import { readSettings } from '../hospitals/settings.js';
import type { Role } from '../permissions.js';
import { listContacts } from './contacts.js';
import { builtInRules, type Contact, type Rules, type RulesOutput, rulesSchema } from './schemas.js';

export type HospitalDefaults = Partial<Record<Role, Rules>> | undefined;

/**
 * What a person gets before they set anything: their hospital's defaults for their role
 * (settings.notificationDefaults), else a push at once for every priority, then for critical and
 * high an SMS and a call if the push goes unanswered. A step whose channel has no verified contact
 * is skipped when a page is sent, so these defaults are safe for someone with no phone set up.
 */
export function defaultRules(role: Role, hospital?: HospitalDefaults): Rules {
  return hospital?.[role] ?? builtInRules();
}


/** Priorities none of whose steps has a verified contact: pages of that priority reach screens only. */
export function unreachablePriorities(rules: Rules, list: Pick<Contact, 'channel' | 'verified'>[]): (typeof priorities)[number][] {
  const ready = new Set(list.filter((c) => c.verified).map((c) => c.channel));
  return priorities.filter((p) => !rules[p].some((s) => ready.has(s.channel)));
}

interface Person {
  id: string;
  hospitalId: string;
  role: Role;
}

const hospitalDefaults = async (db: Tx, hospitalId: string): Promise<HospitalDefaults> => {
  const [h] = await db.select({ settings: hospitals.settings }).from(hospitals).where(eq(hospitals.id, hospitalId));
  return readSettings(h?.settings).notificationDefaults;
};

export async function getRules(db: Tx, user: Person): Promise<RulesOutput> {
  const [row] = await db
    .select({ rules: notificationRules.rules })
    .from(notificationRules)
    .where(and(eq(notificationRules.hospitalId, user.hospitalId), eq(notificationRules.userId, user.id)));
  const parsed = row ? rulesSchema.safeParse(row.rules) : null;
  const rules = parsed?.success ? parsed.data : defaultRules(user.role, await hospitalDefaults(db, user.hospitalId));
  const list = await listContacts(db, user.hospitalId, user.id);
  return { rules, custom: Boolean(parsed?.success), contacts: list, unreachable: unreachablePriorities(rules, list) };
}

/** Saves the caller's own rules (upsert), audited with the steps (channels and delays carry no personal data). */
export async function setRules(db: Tx, audit: AuditContext, user: Person, rules: Rules): Promise<RulesOutput> {
  await db.transaction(async (tx) => {
    await tx
      .insert(notificationRules)
      .values({ userId: user.id, hospitalId: user.hospitalId, rules })
      .onConflictDoUpdate({ target: notificationRules.userId, set: { rules, updatedAt: new Date() } });
    await logAuditEvent(tx, audit, { action: 'notification.rules_set', resource: 'user', resourceId: user.id, metadata: { rules } });
  });
  return getRules(db, user);
}

/** For the sender and the reach page: is this contact id one of the user's (never another hospital's)? */
export const ownContact = (hospitalId: string, userId: string, contactId: string) =>
  and(eq(contacts.hospitalId, hospitalId), eq(contacts.userId, userId), eq(contacts.id, contactId));
