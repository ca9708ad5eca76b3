import type { HospitalSettings } from '../hospitals/settings.js';
import type { Alert } from './schemas.js';

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
 * Seconds an active alert at `level` waits before it escalates next, under the policy in force now;
 * null at the top level. The function counts them from Postgres's clock (clarion_change_alert).
 * Policy changes apply to an open alert from its next level change: the deadline already set stays.
 */
export function levelTimeoutSeconds(settings: HospitalSettings, priority: Alert['priority'], level: number): number | null {
  return settings.escalation[priority].levelTimeoutsSeconds[level] ?? null;
}
