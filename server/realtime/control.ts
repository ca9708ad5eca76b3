import type { AppDeps } from '../deps.js';
import { redisKey } from '../redis.js';

/**
 * Control messages between server instances: when sessions end (logout, revocation, deactivation,
 * a role or department change), every instance closes that user's live sockets.
 */
export type ControlMessage =
  | { type: 'sessions.revoked'; sessionIds: string[] }
  | { type: 'user.changed'; userId: string; reason: 'deactivated' | 'role' | 'department' | 'password' };

export const controlChannel = (deps: Pick<AppDeps, 'config'>) => redisKey(deps.config.redis, 'control');

/**
 * Fire-and-forget after commit: a Redis outage must not fail the mutation. Sockets also re-check
 * their session periodically, so a lost message only delays the close.
 */
export function publishControl(deps: Pick<AppDeps, 'config' | 'redis' | 'log'> & Partial<Pick<AppDeps, 'sessionCache'>>, message: ControlMessage): void {
  // This instance first, synchronously: the action must not answer before its own cache forgets.
  deps.sessionCache?.apply(message);
  deps.redis.publish(controlChannel(deps), JSON.stringify(message)).catch((err) => {
    deps.log.warn({ err: err.message, type: message.type }, 'control message not published; sockets will notice on their next session check');
  });
}
