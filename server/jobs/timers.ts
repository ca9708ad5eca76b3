import type { AlertTimers } from '../alerts/change.js';
import type { Alert } from '../alerts/schemas.js';
import type { Logger } from '../logger.js';
import { escalatePayload, jobIds, type Queues } from './queues.js';

const TIMEOUT_MS = 1_000;

function bounded<T>(p: Promise<T>): Promise<T> {
  return Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('queue timed out')), TIMEOUT_MS).unref())]);
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
      const stale = [
        jobIds.escalate({ alertId: alert.id, hospitalId: alert.hospitalId, level: alert.escalationLevel, version: alert.version - 1 }),
        jobIds.escalate({ alertId: alert.id, hospitalId: alert.hospitalId, level: Math.max(0, alert.escalationLevel - 1), version: alert.version - 1 }),
      ];
      const open = alert.status === 'active' || alert.status === 'acknowledged';
      const work: Promise<unknown>[] = [...stale, jobIds.ackTimeout(alert.id, alert.version - 1)].map((id) => q.remove(id));
      if (alert.status === 'acknowledged' && alert.ackDeadlineAt) {
        const payload = { alertId: alert.id, hospitalId: alert.hospitalId, version: alert.version };
        work.push(q.add('ack-timeout', payload, { jobId: jobIds.ackTimeout(alert.id, alert.version), delay: Math.max(0, Date.parse(alert.ackDeadlineAt) - Date.now()) }));
      }
      if (alert.status === 'active' && alert.nextEscalationAt) {
        const payload = escalatePayload.parse({ alertId: alert.id, hospitalId: alert.hospitalId, level: alert.escalationLevel, version: alert.version });
        work.push(q.add('escalate', payload, { jobId: jobIds.escalate(payload), delay: Math.max(0, Date.parse(alert.nextEscalationAt) - Date.now()) }));
      }
      if (open && alert.expiresAt) {
        work.push(q.add('expire', { alertId: alert.id, hospitalId: alert.hospitalId }, { jobId: jobIds.expire(alert.id), delay: Math.max(0, Date.parse(alert.expiresAt) - Date.now()) }));
      } else if (!open) {
        work.push(q.remove(jobIds.expire(alert.id)));
      }
      const results = await bounded(Promise.allSettled(work));
      const failed = results.filter((r) => r.status === 'rejected');
      if (failed.length) log.warn({ alertId: alert.id, failed: failed.length }, 'some timers not updated; the sweeper will cover them');
    },
  };
}
