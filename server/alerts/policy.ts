import { eq } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import { hospitals } from '../db/schema.js';
import { type HospitalSettings, readSettings } from '../hospitals/settings.js';
import type { Alert } from './schemas.js';

export async function loadSettings(db: Tx, hospitalId: string): Promise<HospitalSettings> {
  const [row] = await db.select({ settings: hospitals.settings }).from(hospitals).where(eq(hospitals.id, hospitalId));
  return readSettings(row?.settings);
}

/** The highest level the policy of a priority escalates to (the length of its timeout list). */
export function maxLevel(settings: HospitalSettings, priority: Alert['priority']): number {
  return settings.escalation[priority].levelTimeoutsSeconds.length;
}

/**
 * Whether the policy in force now has a level above `level`. A policy shortened under open alerts
 * can leave an alert at or above its new top: such an alert stays where it is (a level never goes
 * down) and stops escalating.
 */
export function hasLevelAbove(settings: HospitalSettings, priority: Alert['priority'], level: number): boolean {
  return level < maxLevel(settings, priority);
}

/**
 * When an active alert at `level` escalates next, under the policy in force now; null at the top level.
 * Policy changes apply to an open alert from its next level change: the deadline already set stays.
 */
export function nextEscalationAt(settings: HospitalSettings, priority: Alert['priority'], level: number, from: Date): Date | null {
  const seconds = settings.escalation[priority].levelTimeoutsSeconds[level];
  return seconds === undefined ? null : new Date(from.getTime() + seconds * 1000);
}
