import type { AuditContext } from '../../server/audit/log.js';
import { escalateAlert, expireAlert, reopenAfterAckTimeout } from '../../server/alerts/service.js';
import { AppError } from '../../server/errors.js';
import { unshelveWhenDue } from '../../server/alerts/shelving.js';
import { ackTimeoutPayload, escalatePayload, expirePayload, unshelvePayload } from '../../server/jobs/queues.js';
import type { Processor } from '../registry.js';

export const systemAudit = (hospitalId: string): AuditContext => ({ userId: null, hospitalId, ip: null, userAgent: 'clarion-worker', sessionId: null });

/**
 * A level's deadline passed: escalate, unless the alert moved on (acknowledged, escalated, changed).
 * At or above the top of a policy shortened since, the alert stops escalating instead (once).
 */
export const escalateProcessor: Processor<typeof escalatePayload> = {
  queue: 'timers',
  name: 'escalate',
  schema: escalatePayload,
  async run(deps, p, log) {
    const result = await escalateAlert(deps, { hospitalId: p.hospitalId, departmentId: null }, systemAudit(p.hospitalId), p.alertId, 'timeout', {
      escalationLevel: p.level,
      version: p.version,
    }).catch(ignoreGone);
    const escalated = result?.event.type === 'escalated';
    log.info({ alertId: p.alertId, level: p.level, escalated }, escalated ? 'alert escalated' : result ? 'alert above its policy\'s top level; escalation stopped' : 'timer stale; nothing to do');
    return { escalated };
  },
};

export const expireProcessor: Processor<typeof expirePayload> = {
  queue: 'timers',
  name: 'expire',
  schema: expirePayload,
  async run(deps, p, log) {
    const result = await expireAlert(deps, p.hospitalId, p.alertId).catch(ignoreGone);
    log.info({ alertId: p.alertId, expired: !!result }, result ? 'alert expired' : 'expiry not due or alert closed');
    return { expired: !!result };
  },
};

/** Acknowledged but unresolved past the policy's ackTimeoutSeconds: reopen and escalate. */
export const ackTimeoutProcessor: Processor<typeof ackTimeoutPayload> = {
  queue: 'timers',
  name: 'ack-timeout',
  schema: ackTimeoutPayload,
  async run(deps, p, log) {
    const result = await reopenAfterAckTimeout(deps, p.hospitalId, p.alertId, p.version).catch(ignoreGone);
    log.info({ alertId: p.alertId, reopened: !!result }, result ? 'acknowledgement timed out; alert reopened' : 'acknowledgement timer stale');
    return { reopened: !!result };
  },
};

/** A shelf's time ran out: active again with a fresh deadline, unless it already came off the shelf. */
export const unshelveProcessor: Processor<typeof unshelvePayload> = {
  queue: 'timers',
  name: 'unshelve',
  schema: unshelvePayload,
  async run(deps, p, log) {
    const result = await unshelveWhenDue(deps, p.hospitalId, p.alertId, p.version).catch(ignoreGone);
    log.info({ alertId: p.alertId, unshelved: !!result }, result ? 'shelf time ran out; alert active again' : 'shelf timer stale');
    return { unshelved: !!result };
  },
};

/** Not found or no longer in a state to change: a timer for something that already happened. */
function ignoreGone(err: unknown): null {
  if (err instanceof AppError && (err.code === 'NOT_FOUND' || err.code === 'CONFLICT')) return null;
  throw err;
}
