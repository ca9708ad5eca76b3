import { createPrivateKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { isValidTimezone } from './common/timezone.js';

export const profiles = ['development', 'test', 'staging', 'production'] as const;
export type Profile = (typeof profiles)[number];

/** The development key is public (it is in this file); production refuses it. */
export const DEVELOPMENT_TOTP_KEY = Buffer.alloc(32, 'clarion-development-key').toString('base64');
export const DEVELOPMENT_TOKEN_SECRET = 'clarion-development-token-secret-do-not-use';
export const DEVELOPMENT_AUDIT_ANCHOR_KEY = Buffer.alloc(32, 'clarion-development-anchor-key').toString('base64');
export const DEVELOPMENT_INCIDENT_SIGNING_KEY = Buffer.alloc(32, 'clarion-development-incident-key').toString('base64');

/** Per-profile defaults, from the specification's environment settings. */
const profileDefaults: Record<
  Profile,
  {
    poolMin: number;
    poolMax: number;
    connectionTimeoutMs: number;
    idleTimeoutMs: number;
    statementTimeoutMs: number;
    pgSsl: 'disable' | 'require' | 'verify-full';
    logLevel: string;
  }
> = {
  development: { poolMin: 2, poolMax: 10, connectionTimeoutMs: 10_000, idleTimeoutMs: 30_000, statementTimeoutMs: 30_000, pgSsl: 'disable', logLevel: 'info' },
  test: { poolMin: 0, poolMax: 4, connectionTimeoutMs: 10_000, idleTimeoutMs: 5_000, statementTimeoutMs: 30_000, pgSsl: 'disable', logLevel: 'warn' },
  staging: { poolMin: 2, poolMax: 15, connectionTimeoutMs: 30_000, idleTimeoutMs: 30_000, statementTimeoutMs: 15_000, pgSsl: 'require', logLevel: 'info' },
  production: { poolMin: 5, poolMax: 25, connectionTimeoutMs: 30_000, idleTimeoutMs: 30_000, statementTimeoutMs: 15_000, pgSsl: 'verify-full', logLevel: 'info' },
};

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);
const opt = <T extends z.ZodType>(schema: T) => z.preprocess(emptyAsUndefined, schema.optional());

const envSchema = z.object({
  CLARION_ENV: opt(z.enum(profiles)),
  NODE_ENV: opt(z.string()),
  DATABASE_URL: opt(z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' })),
  REDIS_URL: opt(z.url({ protocol: /^rediss?$/, error: 'must be a redis:// URL' })),
  REDIS_KEY_PREFIX: opt(z.string().regex(/^[a-zA-Z0-9_-]+$/, 'letters, digits, _ and - only')),
  PORT: opt(int(0, 65535)),
  HOST: opt(z.string().min(1)),
  /** The IANA zone schedules are computed in when a hospital's settings name none (people issue). */
  CLARION_TIMEZONE: opt(z.string().refine((tz) => isValidTimezone(tz), 'must be an IANA time zone such as Europe/Berlin')),
  PUBLIC_URL: opt(z.url()),
  LOG_LEVEL: opt(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])),
  TOTP_ENCRYPTION_KEY: opt(z.string()),
  TOKEN_SIGNING_SECRET: opt(z.string()),
  AUDIT_ANCHOR_KEY: opt(z.string()),
  AUDIT_ANCHOR_EVERY_MS: opt(int(1_000, 86_400_000)),
  AUDIT_ANCHOR_PREVIOUS_KEYS: opt(z.string()),
  INCIDENT_SIGNING_KEY: opt(z.string()),
  DB_POOL_MIN: opt(int(0, 500)),
  DB_POOL_MAX: opt(int(1, 500)),
  DB_CONNECTION_TIMEOUT_MS: opt(int(100, 600_000)),
  DB_STATEMENT_TIMEOUT_MS: opt(int(100, 3_600_000)),
  DB_SSL: opt(z.enum(['disable', 'require', 'verify-full'])),
  DB_SSL_CA_FILE: opt(z.string()),
  SLOW_QUERY_MS: opt(int(1, 600_000)),
  TRUST_PROXY_HOPS: opt(int(0, 10)),
  LOCKOUT_THRESHOLD: opt(int(1, 100)),
  LOCKOUT_MINUTES: opt(int(1, 24 * 60)),
  LOGIN_DELAY_MAX_MS: opt(int(0, 30_000)),
  SESSION_IDLE_MINUTES: opt(int(1, 24 * 60)),
  LOGIN_RATE_LIMIT_PER_MINUTE: opt(int(1, 10_000)),
  EXPORT_DIR: opt(z.string().min(1)),
  EXPORT_RETENTION_DAYS: opt(int(1, 3650)),
  EXPORT_REQUEUE_AFTER_SECONDS: opt(int(1, 86_400)),
  EVENT_RETENTION_DAYS: opt(int(1, 3650)),
  WEB_DIST_DIR: opt(z.string().min(1)),
  SWEEP_INTERVAL_MS: opt(int(100, 3_600_000)),
  AUDIT_PURGE_BATCH: opt(int(100, 1_000_000)),
  PRESENCE_CHECK_MS: opt(int(500, 3_600_000)),
  SMTP_URL: opt(z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL' })),
  MAIL_FROM: opt(z.string().min(3)),
  // SMS and voice provider (the common REST shape: Accounts/{sid}/Messages.json, Calls.json).
  TELEPHONY_URL: opt(z.url({ protocol: /^https?$/, error: 'must be an http(s):// URL' })),
  TELEPHONY_ACCOUNT_SID: opt(z.string().min(1)),
  TELEPHONY_AUTH_TOKEN: opt(z.string().min(8)),
  TELEPHONY_FROM: opt(z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number such as +15550100123')),
  // Most SMS plus calls Clarion sends in an hour, per person and per hospital (a runaway loop or SMS pumping).
  TELEPHONY_MAX_PER_USER_PER_HOUR: opt(int(1, 10_000)),
  TELEPHONY_MAX_PER_HOSPITAL_PER_HOUR: opt(int(1, 1_000_000)),
  // Web Push: our VAPID key pair (npm run vapid:keys) and a contact for the push services.
  WEB_PUSH_VAPID_PUBLIC_KEY: opt(z.string().regex(/^[A-Za-z0-9_-]{80,100}$/, 'must be a base64url P-256 public key (npm run vapid:keys)')),
  WEB_PUSH_VAPID_PRIVATE_KEY: opt(z.string().regex(/^[A-Za-z0-9_-]{40,50}$/, 'must be a base64url P-256 private key (npm run vapid:keys)')),
  WEB_PUSH_SUBJECT: opt(z.string().regex(/^(mailto:|https:\/\/)\S+$/, 'must be a mailto: or https:// address')),
  WEB_PUSH_CA_FILE: opt(z.string().min(1)),
  SETUP_LINK_HOURS: opt(int(1, 30 * 24)),
  CORS_ORIGINS: opt(z.string()),
  // Webhooks Clarion POSTs to: private/loopback/link-local targets refused unless allowed (default: allowed outside staging/production).
  OUTBOUND_ALLOW_PRIVATE: opt(z.enum(['true', 'false'], { error: 'must be true or false' })),
  OUTBOUND_ALLOWED_HOSTS: opt(z.string()),
  BACKUP_SCHEDULE: opt(z.string().regex(/^off$|^(\S+\s+){4,5}\S+$/, 'a cron pattern (5 or 6 fields) or "off"')),
  BACKUP_DIR: opt(z.string().min(1)),
  BACKUP_KEEP: opt(int(1, 1000)),
  HTTP_MAX_BATCH_SIZE: opt(int(1, 1_000)),
  WS_AUTH_TIMEOUT_SECONDS: opt(int(1, 600)),
  WS_MAX_UNAUTHENTICATED: opt(int(1, 1_000_000)),
  WS_MAX_UNAUTHENTICATED_PER_ADDRESS: opt(int(1, 1_000_000)),
  WS_MAX_PER_SESSION: opt(int(1, 1_000)),
  WS_MAX_PER_USER: opt(int(1, 10_000)),
  WS_SESSION_CHECK_SECONDS: opt(int(1, 3_600)),
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: opt(int(1, 1_000)),
  MAX_SUBSCRIPTIONS_PER_SESSION: opt(int(1, 10_000)),
  WS_DRAIN_TIMEOUT_SECONDS: opt(int(1, 3_600)),
  METRICS_TOKEN: opt(z.string().min(32, 'must be at least 32 characters (openssl rand -hex 32)')),
  // HL7 v2 over MLLP (server/integrations/hl7): the listener is off unless a port is set.
  HL7_MLLP_PORT: opt(int(0, 65535)),
  HL7_MLLP_HOST: opt(z.string().min(1)),
});

/** An Ed25519 private key from base64: PKCS8 DER, or its 32-byte seed (RFC 8410 prefix added). */
export function ed25519PrivateKey(base64: string): KeyObject | null {
  const der = Buffer.from(base64, 'base64');
  const pkcs8 = der.length === 32 ? Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), der]) : der;
  try {
    const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
    return key.asymmetricKeyType === 'ed25519' ? key : null;
  } catch {
    return null;
  }
}

const secretKey = z
  .string()
  .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded (openssl rand -base64 32)');

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(source: Record<string, string | undefined> = process.env) {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const env = parsed.data;
  const profile: Profile =
    env.CLARION_ENV ?? (env.NODE_ENV === 'production' ? 'production' : env.NODE_ENV === 'test' ? 'test' : 'development');
  const d = profileDefaults[profile];
  const strict = profile === 'production' || profile === 'staging';
  const problems: string[] = [];

  const totpKey = env.TOTP_ENCRYPTION_KEY ?? (strict ? undefined : DEVELOPMENT_TOTP_KEY);
  if (!totpKey) problems.push(`TOTP_ENCRYPTION_KEY: required in ${profile} (openssl rand -base64 32)`);
  else if (!secretKey.safeParse(totpKey).success) problems.push('TOTP_ENCRYPTION_KEY: must be 32 bytes, base64-encoded');
  else if (strict && totpKey === DEVELOPMENT_TOTP_KEY) problems.push(`TOTP_ENCRYPTION_KEY: the development key is refused in ${profile}`);

  const allOrNone = (group: string, vars: readonly (keyof typeof env)[]) => {
    const missing = vars.filter((k) => env[k] === undefined);
    if (missing.length && missing.length < vars.length) problems.push(`${group}: set all ${vars.length} or none (missing ${missing.join(', ')})`);
  };
  allOrNone('TELEPHONY_*', ['TELEPHONY_URL', 'TELEPHONY_ACCOUNT_SID', 'TELEPHONY_AUTH_TOKEN', 'TELEPHONY_FROM']);
  allOrNone('WEB_PUSH_*', ['WEB_PUSH_VAPID_PUBLIC_KEY', 'WEB_PUSH_VAPID_PRIVATE_KEY', 'WEB_PUSH_SUBJECT']);
  const tokenSecret = env.TOKEN_SIGNING_SECRET ?? (strict ? undefined : DEVELOPMENT_TOKEN_SECRET);
  if (!tokenSecret) problems.push(`TOKEN_SIGNING_SECRET: required in ${profile} (at least 32 characters)`);
  else if (tokenSecret.length < 32) problems.push('TOKEN_SIGNING_SECRET: must be at least 32 characters');
  else if (strict && tokenSecret === DEVELOPMENT_TOKEN_SECRET) problems.push(`TOKEN_SIGNING_SECRET: the development secret is refused in ${profile}`);

  // The audit anchor key signs chain heads (server/audit/anchor.ts); it must never be in the database.
  const anchorKey = env.AUDIT_ANCHOR_KEY ?? (strict ? undefined : DEVELOPMENT_AUDIT_ANCHOR_KEY);
  if (!anchorKey) problems.push(`AUDIT_ANCHOR_KEY: required in ${profile} (openssl rand -base64 32)`);
  else if (!secretKey.safeParse(anchorKey).success) problems.push('AUDIT_ANCHOR_KEY: must be 32 bytes, base64-encoded');
  else if (strict && anchorKey === DEVELOPMENT_AUDIT_ANCHOR_KEY) problems.push(`AUDIT_ANCHOR_KEY: the development key is refused in ${profile}`);
  // Retired anchor keys still verify the anchors they signed (key rotation); they never sign.
  const previousAnchorKeys = (env.AUDIT_ANCHOR_PREVIOUS_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean);
  for (const [i, k] of previousAnchorKeys.entries()) if (!secretKey.safeParse(k).success) problems.push(`AUDIT_ANCHOR_PREVIOUS_KEYS: key ${i + 1} must be 32 bytes, base64-encoded`);
  // Signs incident records (server/alerts/incident-record.ts). Unset in staging/production, records are
  // refused (PRECONDITION_FAILED) rather than the server: deployments predating the key keep starting.
  const incidentKey = env.INCIDENT_SIGNING_KEY ?? (strict ? undefined : DEVELOPMENT_INCIDENT_SIGNING_KEY);
  if (incidentKey && !ed25519PrivateKey(incidentKey)) problems.push('INCIDENT_SIGNING_KEY: must be an Ed25519 key, base64 PKCS8 DER or a 32-byte seed (openssl rand -base64 32)');
  else if (strict && incidentKey === DEVELOPMENT_INCIDENT_SIGNING_KEY) problems.push(`INCIDENT_SIGNING_KEY: the development key is refused in ${profile}`);

  if (strict && !env.DATABASE_URL) problems.push(`DATABASE_URL: required in ${profile}`);
  if (strict && !env.REDIS_URL) problems.push(`REDIS_URL: required in ${profile}`);
  const poolMin = env.DB_POOL_MIN ?? d.poolMin;
  const poolMax = env.DB_POOL_MAX ?? d.poolMax;
  if (poolMin > poolMax) problems.push(`DB_POOL_MIN (${poolMin}) must not exceed DB_POOL_MAX (${poolMax})`);
  const corsOrigins = (env.CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean);
  for (const o of corsOrigins) if (!URL.canParse(o) || new URL(o).origin !== o) problems.push(`CORS_ORIGINS: "${o}" is not an origin (scheme://host[:port])`);
  if (problems.length) throw new ConfigError(problems);

  const redisUrl = new URL(env.REDIS_URL ?? 'redis://127.0.0.1:6379/0');
  const redisDb = Number(redisUrl.pathname.replace('/', '') || '0');
  if (!Number.isInteger(redisDb) || redisDb < 0) throw new ConfigError([`REDIS_URL: bad database index "${redisUrl.pathname}"`]);
  const port = env.PORT ?? 3000;

  return {
    profile,
    isProduction: profile === 'production',
    port,
    host: env.HOST ?? '0.0.0.0',
    defaultTimezone: env.CLARION_TIMEZONE ?? 'UTC',
    publicUrl: env.PUBLIC_URL ?? `http://localhost:${port}`,
    logLevel: env.LOG_LEVEL ?? d.logLevel,
    database: {
      url: env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/clarion',
      poolMin,
      poolMax,
      connectionTimeoutMs: env.DB_CONNECTION_TIMEOUT_MS ?? d.connectionTimeoutMs,
      idleTimeoutMs: d.idleTimeoutMs,
      statementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS ?? d.statementTimeoutMs,
      ssl: env.DB_SSL ?? d.pgSsl,
      sslCaFile: env.DB_SSL_CA_FILE,
      slowQueryMs: env.SLOW_QUERY_MS ?? 200,
    },
    redis: {
      host: redisUrl.hostname || '127.0.0.1',
      port: Number(redisUrl.port || 6379),
      db: redisDb,
      username: redisUrl.username ? decodeURIComponent(redisUrl.username) : undefined,
      password: redisUrl.password ? decodeURIComponent(redisUrl.password) : undefined,
      tls: redisUrl.protocol === 'rediss:',
      keyPrefix: env.REDIS_KEY_PREFIX ?? 'clarion',
    },
    secrets: { totpKey: Buffer.from(totpKey as string, 'base64'), tokenSecret: tokenSecret as string, auditAnchorKey: Buffer.from(anchorKey as string, 'base64'), auditAnchorPreviousKeys: previousAnchorKeys.map((k) => Buffer.from(k, 'base64')), incidentSigningKey: incidentKey ? ed25519PrivateKey(incidentKey) : null },
    auth: {
      lockoutThreshold: env.LOCKOUT_THRESHOLD ?? 5,
      lockoutMinutes: env.LOCKOUT_MINUTES ?? 15,
      // The most a run of failures from anywhere slows an account's sign-in (the per-address lock is separate).
      loginDelayMaxMs: env.LOGIN_DELAY_MAX_MS ?? 2_000,
      sessionIdleMinutes: env.SESSION_IDLE_MINUTES ?? 12 * 60,
      loginRateLimitPerMinute: env.LOGIN_RATE_LIMIT_PER_MINUTE ?? 20,
      trustProxyHops: env.TRUST_PROXY_HOPS ?? 0,
    },
    exports: {
      dir: env.EXPORT_DIR ?? './var/exports',
      retentionDays: env.EXPORT_RETENTION_DAYS ?? 7,
      /** A request still `queued` this long has lost its job (Redis was down): the sweeper queues it again. */
      requeueAfterSeconds: env.EXPORT_REQUEUE_AFTER_SECONDS ?? 30,
    },
    events: { retentionDays: env.EVENT_RETENTION_DAYS ?? 30 },
    webDistDir: env.WEB_DIST_DIR ?? './web/dist',
    /** Account setup links (server/accounts): emailed through SMTP_URL when set, else shown to the admin to copy. */
    mail: { smtpUrl: env.SMTP_URL ?? null, from: env.MAIL_FROM ?? `Clarion <no-reply@${new URL(env.PUBLIC_URL ?? 'http://localhost').hostname}>` },
    accounts: { setupLinkHours: env.SETUP_LINK_HOURS ?? 72 },
    /** SMS and voice: all four TELEPHONY_* set, else those channels are off (contacts of them cannot be verified). */
    telephony:
      env.TELEPHONY_URL && env.TELEPHONY_ACCOUNT_SID && env.TELEPHONY_AUTH_TOKEN && env.TELEPHONY_FROM
        ? { baseUrl: env.TELEPHONY_URL, accountSid: env.TELEPHONY_ACCOUNT_SID, authToken: env.TELEPHONY_AUTH_TOKEN, from: env.TELEPHONY_FROM }
        : null,
    /** Webhook targets (server/common/outbound.ts): SSRF guard on the address actually connected to. */
    outbound: {
      allowPrivate: env.OUTBOUND_ALLOW_PRIVATE ? env.OUTBOUND_ALLOW_PRIVATE === 'true' : !strict,
      allowedHosts: (env.OUTBOUND_ALLOWED_HOSTS ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean),
    },
    telephonyLimits: { perUserPerHour: env.TELEPHONY_MAX_PER_USER_PER_HOUR ?? 30, perHospitalPerHour: env.TELEPHONY_MAX_PER_HOSPITAL_PER_HOUR ?? 2_000 },
    webPush:
      env.WEB_PUSH_VAPID_PUBLIC_KEY && env.WEB_PUSH_VAPID_PRIVATE_KEY && env.WEB_PUSH_SUBJECT
        ? { publicKey: env.WEB_PUSH_VAPID_PUBLIC_KEY, privateKey: env.WEB_PUSH_VAPID_PRIVATE_KEY, subject: env.WEB_PUSH_SUBJECT, caFile: env.WEB_PUSH_CA_FILE }
        : null,
    /** Browser origins other than this server's own that may call the API (same-origin is always allowed). */
    corsOrigins,
    /**
     * Bearer token for the operator endpoints (/metrics, and /readyz's details). Without one, development
     * and test leave them open; staging and production keep /metrics closed (never public by default).
     */
    metricsToken: env.METRICS_TOKEN ?? null,
    /** HL7 v2 MLLP listener (monitor gateways, nurse call): null when HL7_MLLP_PORT is unset. */
    hl7: env.HL7_MLLP_PORT === undefined ? null : { port: env.HL7_MLLP_PORT, host: env.HL7_MLLP_HOST ?? '0.0.0.0' },
    /** Bounds on what one request or one client may hold (docs/operations.md, "Limits on requests and sockets"). */
    limits: {
      /** Calls in one batched HTTP request (httpBatchLink); the web app sends at most 20. */
      httpMaxBatchSize: env.HTTP_MAX_BATCH_SIZE ?? 50,
      sockets: {
        authTimeoutMs: (env.WS_AUTH_TIMEOUT_SECONDS ?? 10) * 1000,
        maxAnonymous: env.WS_MAX_UNAUTHENTICATED ?? 1_000,
        maxAnonymousPerAddress: env.WS_MAX_UNAUTHENTICATED_PER_ADDRESS ?? 100,
        maxPerSession: env.WS_MAX_PER_SESSION ?? 10,
        maxPerUser: env.WS_MAX_PER_USER ?? 30,
        checkIntervalMs: (env.WS_SESSION_CHECK_SECONDS ?? 15) * 1000,
      },
    },
    /** alerts.onEvent bounds (docs/operations.md, "Subscriptions: limits and slow readers"). */
    subscriptions: {
      /** Live subscriptions on one WebSocket; the web app opens one per page. */
      perSocket: env.WS_MAX_SUBSCRIPTIONS_PER_SOCKET ?? 10,
      /** Live subscriptions of one session on one server instance, over all its sockets. */
      perSession: env.MAX_SUBSCRIPTIONS_PER_SESSION ?? 20,
      /** A socket whose send buffer stays over its bound this long (a client that stopped reading) is disconnected. */
      drainTimeoutMs: (env.WS_DRAIN_TIMEOUT_SECONDS ?? 30) * 1000,
    },
    /** Scheduled backups by the worker: a cron pattern, or "off" (e.g. when a systemd timer runs them). */
    backup: { schedule: env.BACKUP_SCHEDULE ?? (profile === 'test' ? 'off' : '30 2 * * *'), dir: env.BACKUP_DIR ?? './var/backups', keep: env.BACKUP_KEEP ?? 7 },
    worker: {
      /** How often the sweeper looks for escalations and expiries whose timer did not fire. */
      sweepIntervalMs: env.SWEEP_INTERVAL_MS ?? 5_000,
      auditPurgeBatch: env.AUDIT_PURGE_BATCH ?? 10_000,
      /** How often each audit chain's head is anchored (HMAC); a missed anchor only delays detection. */
      auditAnchorEveryMs: env.AUDIT_ANCHOR_EVERY_MS ?? 300_000,
      /** How often departments are checked for "no screen online". */
      presenceCheckMs: env.PRESENCE_CHECK_MS ?? 30_000,
    },
  };
}

export type Config = ReturnType<typeof loadConfig>;
