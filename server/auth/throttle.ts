import { createHash } from 'node:crypto';
import type { AppDeps } from '../deps.js';
import { redisKey } from '../redis.js';
import { addressGroup } from './address.js';

const WINDOW_SECONDS = 60;
/** An address that signed in to an account is "known" to it for this long (refreshed on each sign-in). */
const KNOWN_CLIENT_SECONDS = 30 * 24 * 3600;

// Counts one attempt in a fixed one-minute window, atomically (INCR, and EXPIRE only when the key is new,
// so a steady stream of attempts cannot keep a window open forever).
const COUNT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n`;

export interface ThrottleResult {
  limited: boolean;
  /** Which counter is over its limit (for the log and the audit row, never for the client). */
  scope?: 'ip_email' | 'email' | 'ip';
  /** True for the first attempt over a limit in this window, so the refusal is audited once, not per try. */
  firstOver?: boolean;
}

/**
 * Login attempts per minute, counted in Redis before the password is checked:
 * - per (IP, email) at the configured limit: one client hammering one account;
 * - per email at 3× the limit: guessing one account from many addresses — applied only to addresses
 *   that never signed in to that account, so a flood from outside cannot keep the nurse at the ward's
 *   own workstation out (issue 13: lockout an outsider cannot weaponise);
 * - per IP at 10× the limit: one client guessing many accounts (generous, because a whole ward can sit
 *   behind one NAT address at shift change).
 * The account lockout in Postgres is the second line. If Redis is down the throttle fails open (and says
 * so in the log): the lockout still protects, and nobody is kept from signing in to a clinical system.
 */
export async function countLoginAttempt(deps: Pick<AppDeps, 'config' | 'redis' | 'log'>, clientIp: string, email: string): Promise<ThrottleResult> {
  const ip = addressGroup(clientIp);
  const limit = deps.config.auth.loginRateLimitPerMinute;
  const emailKey = emailKeyOf(email);
  const counters = [
    { scope: 'ip_email' as const, key: redisKey(deps.config.redis, 'login', 'ip-email', ip, emailKey), limit },
    { scope: 'email' as const, key: redisKey(deps.config.redis, 'login', 'email', emailKey), limit: limit * 3 },
    { scope: 'ip' as const, key: redisKey(deps.config.redis, 'login', 'ip', ip), limit: limit * 10 },
  ];
  try {
    const multi = deps.redis.multi();
    for (const c of counters) multi.eval(COUNT, 1, c.key, String(WINDOW_SECONDS));
    multi.sismember(knownKey(deps, emailKey), ip);
    const results = await multi.exec();
    if (!results) throw new Error('login throttle transaction aborted');
    const [knownErr, known] = results[counters.length] ?? [new Error('missing result'), 0];
    if (knownErr) throw knownErr;
    for (const [i, c] of counters.entries()) {
      const [err, value] = results[i] ?? [new Error('missing result'), null];
      if (err) throw err;
      const n = Number(value);
      if (c.scope === 'email' && Number(known) === 1) continue;
      if (n > c.limit) return { limited: true, scope: c.scope, firstOver: n === c.limit + 1 };
    }
    return { limited: false };
  } catch (err) {
    deps.log.warn({ err: (err as Error).message }, 'login throttle unavailable (Redis); allowing the attempt, the account lockout still applies');
    return { limited: false };
  }
}

// The email is hashed so Redis holds no addresses.
const emailKeyOf = (email: string) => createHash('sha256').update(email).digest('hex').slice(0, 32);
const knownKey = (deps: Pick<AppDeps, 'config'>, emailKey: string) => redisKey(deps.config.redis, 'login', 'known', emailKey);

/**
 * After a successful sign-in: this address is known to the account, so the per-email limit (a flood
 * from many outside addresses) does not apply to it. Fire-and-forget: Redis down only loses the exemption.
 */
export function rememberClient(deps: Pick<AppDeps, 'config' | 'redis' | 'log'>, clientIp: string, email: string): void {
  const ip = addressGroup(clientIp);
  const key = knownKey(deps, emailKeyOf(email));
  deps.redis
    .multi()
    .sadd(key, ip)
    .expire(key, KNOWN_CLIENT_SECONDS)
    .exec()
    .catch((err: Error) => deps.log.debug({ err: err.message }, 'known sign-in address not recorded'));
}
