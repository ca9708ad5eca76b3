import { sql } from 'drizzle-orm';
import type { AuditContext } from '../audit/log.js';
import { isRetryableTransactionError, type Tx } from '../db/client.js';
import { notFound } from '../errors.js';
import { Batcher, type Outcome } from './batcher.js';
import type { Gate } from './gate.js';
import { type HospitalSettings, readSettings } from '../hospitals/settings.js';
import type { Alert, AlertEvent, CreateAlertInput } from './schemas.js';

/** What clarion_create_alert (migrations/0009) answers: the alert as toAlert() renders it, and its events in order. */
export interface RaiseResult {
  alert: Alert;
  events: AlertEvent[];
  deduplicated: boolean;
  priorityRaisedFrom: Alert['priority'] | null;
}

/** The raise as the SQL function reads it (see clarion_raise_alert); built from zod-validated input. */
export type RaisePayload = Record<string, unknown> & { hospitalId: string };

export interface CachedSettings {
  /** md5 of the stored settings text: the function refuses a raise made with other settings (CLR02). */
  hash: string | null;
  settings: HospitalSettings;
}

const DEPARTMENT_NOT_FOUND = 'CLR01';
export const SETTINGS_CHANGED = 'CLR02';

const BATCH_MAX = 50;

function perHospital<T>(maps: WeakMap<object, Map<string, T>>, db: object, hospitalId: string, make: () => T): T {
  let map = maps.get(db);
  if (!map) {
    map = new Map();
    maps.set(db, map);
  }
  let value = map.get(hospitalId);
  if (value === undefined) {
    value = make();
    map.set(hospitalId, value);
  }
  return value;
}

const batchers = new WeakMap<object, Map<string, Batcher<RaisePayload, RaiseResult>>>();

// Per database handle, per hospital. The function checks the hash against the stored settings in the
// raise's own snapshot, so a cached copy is never used once the settings change (on any instance, or by
// hand in SQL): the raise is refused, the cache reloaded, the raise sent again.
const caches = new WeakMap<object, Map<string, { loaded: Promise<CachedSettings> | null }>>();

export async function hospitalSettings(db: Tx, hospitalId: string, stale?: CachedSettings): Promise<CachedSettings> {
  const entry = perHospital(caches, db, hospitalId, () => ({ loaded: null as Promise<CachedSettings> | null }));
  const current = entry.loaded;
  // A batch refused for stale settings sends all its callers here at once: the first reloads, the rest share it.
  const refused = stale && current && (await current.catch(() => null)) === stale && entry.loaded === current;
  if (!entry.loaded || refused) {
    const loading = loadHashed(db, hospitalId);
    entry.loaded = loading;
    // A failed load is not cached: the next raise tries again.
    loading.catch(() => {
      if (entry.loaded === loading) entry.loaded = null;
    });
  }
  return entry.loaded;
}

async function loadHashed(db: Tx, hospitalId: string): Promise<CachedSettings> {
  const { rows } = await db.execute<{ settings: unknown; hash: string }>(sql`SELECT settings, md5(settings::text) AS hash FROM hospitals WHERE id = ${hospitalId}`);
  return { hash: rows[0]?.hash ?? null, settings: readSettings(rows[0]?.settings) };
}

/** The function's input: values normalised exactly as the old insert did, the settings it needs, the audit context. */
/** Where a raise came from when it is not the console: an integration's name and the sender's own id. */
export interface AlertOrigin {
  source: string;
  externalId: string | null;
  /** A hospital code (alarm issue): never folded, shelved or suppressed. */
  code?: string;
}

export function raisePayload(hospitalId: string, createdBy: string | null, audit: AuditContext, input: CreateAlertInput, s: CachedSettings, origin?: AlertOrigin): RaisePayload {
  return {
    ...(origin ? { source: origin.source, externalId: origin.externalId } : {}),
    ...(origin?.code ? { code: origin.code } : {}),
    hospitalId,
    departmentId: input.departmentId,
    title: input.title,
    description: input.description || null,
    priority: input.priority,
    alertType: input.alertType.toLowerCase(),
    roomNumber: input.roomNumber || null,
    expiresAt: input.expiresAt ? new Date(input.expiresAt).toISOString() : null,
    createdBy,
    settingsHash: s.hash,
    dedupWindowSeconds: s.settings.dedupWindowSeconds,
    timeouts: Object.fromEntries(Object.entries(s.settings.escalation).map(([p, policy]) => [p, policy.levelTimeoutsSeconds])),
    audit,
  };
}

export function sqlState(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The function's own refusals as the service's errors; database errors pass through (errors.ts maps them). */
export function raiseError(err: unknown): unknown {
  return sqlState(err) === DEPARTMENT_NOT_FOUND ? notFound('Department') : err;
}

export async function writeRaise(db: Tx, payload: RaisePayload): Promise<RaiseResult> {
  const { rows } = await db.execute<{ r: RaiseResult }>(sql`SELECT clarion_create_alert(${JSON.stringify(payload)}::jsonb) AS r`);
  return (rows[0] as { r: RaiseResult }).r;
}

/**
 * A batch in one statement (clarion_create_alerts, migrations/0010): one hospital-lock hold and one
 * WAL flush for all of it; each raise fails alone, with its own SQLSTATE. A batch of one takes the
 * single-raise function (no subtransaction).
 */
export async function writeRaises(db: Tx, payloads: RaisePayload[]): Promise<Outcome<RaiseResult>[]> {
  if (payloads.length === 1) {
    return [await writeRaise(db, payloads[0] as RaisePayload).then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }))];
  }
  const { rows } = await db.execute<{ r: (RaiseResult | { error: { code: string; message: string } })[] }>(
    sql`SELECT clarion_create_alerts(${JSON.stringify(payloads)}::jsonb) AS r`,
  );
  return (rows[0]?.r ?? []).map((x) =>
    'error' in x ? { ok: false as const, error: Object.assign(new Error(x.error.message), { code: x.error.code }) } : { ok: true as const, value: x },
  );
}

/** Per database handle (so per pool) and hospital: one raise batch in flight, behind the write gate. */
export function raiseBatcher(db: Tx, gate: Gate, hospitalId: string): Batcher<RaisePayload, RaiseResult> {
  return perHospital(batchers, db, hospitalId, () => new Batcher((payloads) => gate.run(() => writeRaises(db, payloads)), BATCH_MAX));
}

/**
 * A raise with the hospital's cached settings. Sent once more when the function found the settings
 * changed (with fresh ones) or the statement hit a deadlock or serialization failure (it committed
 * nothing, db/client.ts); a second failure is the caller's error, not a loop.
 */
export async function raiseAlert(db: Tx, hospitalId: string, build: (s: CachedSettings) => RaisePayload, write: (p: RaisePayload) => Promise<RaiseResult>): Promise<RaiseResult> {
  let stale: CachedSettings | undefined;
  for (let attempt = 1; ; attempt++) {
    const settings = await hospitalSettings(db, hospitalId, stale);
    try {
      return await write(build(settings));
    } catch (err) {
      const changed = sqlState(err) === SETTINGS_CHANGED;
      if (attempt >= 2 || !(changed || isRetryableTransactionError(err))) throw raiseError(err);
      stale = changed ? settings : undefined;
    }
  }
}
