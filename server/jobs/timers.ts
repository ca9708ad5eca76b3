import type { AlertTimers } from '../alerts/change.js';
import type { Alert } from '../alerts/schemas.js';
import { openAlertStatuses } from '../db/enums.js';
import type { Logger } from '../logger.js';
import { escalatePayload, jobIds, type Queues } from './queues.js';

const TIMEOUT_MS = 1_000;

function bounded<T>(p: Promise<T>): Promise<T> {
  return Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('queue timed out')), TIMEOUT_MS).unref())]);
}

/**
 * The timer jobs the previous version of this alert can have left pending: only the afterChange of
 * version − 1 adds versioned jobs (an escalation while active, an acknowledgement timeout while
 * acknowledged), so which ones can exist follows from how the alert got to where it is now.
 * - Version 1 is a create: nothing came before, nothing to remove.
 * - A level rises by one at most per change, and only on the way to `active` (escalate, decline,
 *   reopen): level − 1 is worth removing only then.
 * - The previous state was acknowledged unless this very change stamped the acknowledgement:
 *   acknowledge (and a resolve straight from active) set `acknowledgedAt` to the transaction's
 *   `now()`, the same instant as `updatedAt`.
 * Missing one is harmless (the processor's guarded UPDATE on level and version makes a stale job a
 * no-op); this only keeps the request path from doing Redis work that can never matter.
 */
export function staleJobIds(alert: Alert): string[] {
  if (alert.version <= 1) return [];
  const previous = alert.version - 1;
  const esc = (level: number) => jobIds.escalate({ alertId: alert.id, hospitalId: alert.hospitalId, level, version: previous });
  const ack = jobIds.ackTimeout(alert.id, previous);
  const stampedNow = alert.acknowledgedAt !== null && alert.acknowledgedAt === alert.updatedAt;
  if (alert.status === 'active') {
    // From active (update, repeat, escalate, decline) or from acknowledged (reopen): not told apart.
    return [esc(alert.escalationLevel), ...(alert.escalationLevel > 0 ? [esc(alert.escalationLevel - 1)] : []), ack];
  }
  const wasAcknowledged = alert.acknowledgedAt !== null && !stampedNow;
  if (alert.status === 'acknowledged') {
    // A correction or repeat keeps ackDeadlineAt, so its timer exists only if there is a deadline.
    return wasAcknowledged ? (alert.ackDeadlineAt ? [ack] : []) : [esc(alert.escalationLevel)];
  }
  // Shelved from active or acknowledged (not told apart: the shelf clears the acknowledgement), or
  // repeated on the shelf (its older shelf timer). The expiry timer stays: a shelved alert still expires.
  // A shelf timer left behind when an alert leaves the shelf is not removed: guarded on its version
  // and deadline, it is a no-op when it fires.
  if (alert.status === 'shelved') return [esc(alert.escalationLevel), ack, jobIds.unshelve(alert.id, previous)];
  // Closed: the expiry timer (if it ever had one) goes too.
  return [wasAcknowledged ? ack : esc(alert.escalationLevel), ...(alert.expiresAt ? [jobIds.expire(alert.id)] : [])];
}

/**
 * Keeps BullMQ timers in step with an alert after each change. Removing the previous timers is an
 * optimisation; the processor's guarded UPDATE (status, level and version) is what makes an
 * escalation happen at most once, and the sweeper what makes it happen at least once.
 */
export function createAlertTimers(queues: Pick<Queues, 'timers'>, log: Logger): AlertTimers {
  return {
    async afterChange(alert: Alert) {
      const q = queues.timers;
      const open = (openAlertStatuses as readonly string[]).includes(alert.status);
      const work: Promise<unknown>[] = staleJobIds(alert).map((id) => q.remove(id));
      if (alert.status === 'acknowledged' && alert.ackDeadlineAt) {
        const payload = { alertId: alert.id, hospitalId: alert.hospitalId, version: alert.version };
        work.push(q.add('ack-timeout', payload, { jobId: jobIds.ackTimeout(alert.id, alert.version), delay: Math.max(0, Date.parse(alert.ackDeadlineAt) - Date.now()) }));
      }
      if (alert.status === 'shelved' && alert.shelvedUntil) {
        const payload = { alertId: alert.id, hospitalId: alert.hospitalId, version: alert.version };
        work.push(q.add('unshelve', payload, { jobId: jobIds.unshelve(alert.id, alert.version), delay: Math.max(0, Date.parse(alert.shelvedUntil) - Date.now()) }));
      }
      if (alert.status === 'active' && alert.nextEscalationAt) {
        const payload = escalatePayload.parse({ alertId: alert.id, hospitalId: alert.hospitalId, level: alert.escalationLevel, version: alert.version });
        work.push(q.add('escalate', payload, { jobId: jobIds.escalate(payload), delay: Math.max(0, Date.parse(alert.nextEscalationAt) - Date.now()) }));
      }
      // Re-added on every open change (ignored while the job exists): repairs one an outage lost.
      if (open && alert.expiresAt) {
        work.push(q.add('expire', { alertId: alert.id, hospitalId: alert.hospitalId }, { jobId: jobIds.expire(alert.id), delay: Math.max(0, Date.parse(alert.expiresAt) - Date.now()) }));
      }
      if (!work.length) return;
      const results = await bounded(Promise.allSettled(work));
      const failed = results.filter((r) => r.status === 'rejected');
      if (failed.length) log.warn({ alertId: alert.id, failed: failed.length }, 'some timers not updated; the sweeper will cover them');
    },
  };
}
