import { sql } from 'drizzle-orm';
import type { AuditContext } from '../audit/log.js';
import { isRetryableTransactionError, type Tx } from '../db/client.js';
import { notFound } from '../errors.js';
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

interface CachedSettings {
  /** md5 of the stored settings text: the function refuses a raise made with other settings (CLR02). */
  hash: string | null;
  settings: HospitalSettings;
}

const DEPARTMENT_NOT_FOUND = 'CLR01';
const SETTINGS_CHANGED = 'CLR02';

// Per database handle, per hospital. The function checks the hash against the stored settings in the
// raise's own snapshot, so a cached copy is never used once the settings change (on any instance, or by
// hand in SQL): the raise is refused, the cache reloaded, the raise sent again.
const caches = new WeakMap<object, Map<string, CachedSettings>>();

export async function hospitalSettings(db: Tx, hospitalId: string, reload = false): Promise<CachedSettings> {
  let cache = caches.get(db);
  if (!cache) {
    cache = new Map();
    caches.set(db, cache);
  }
  const hit = cache.get(hospitalId);
  if (hit && !reload) return hit;
  const { rows } = await db.execute<{ settings: unknown; hash: string }>(sql`SELECT settings, md5(settings::text) AS hash FROM hospitals WHERE id = ${hospitalId}`);
  const loaded = { hash: rows[0]?.hash ?? null, settings: readSettings(rows[0]?.settings) };
  cache.set(hospitalId, loaded);
  return loaded;
}

/** The function's input: values normalised exactly as the old insert did, the settings it needs, the audit context. */
export function raisePayload(hospitalId: string, createdBy: string | null, audit: AuditContext, input: CreateAlertInput, s: CachedSettings): RaisePayload {
  return {
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

/** One autocommit statement; a deadlock or serialization failure committed nothing, so it runs once more (db/client.ts). */
async function once<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!isRetryableTransactionError(err)) throw err;
    return run();
  }
}

export async function writeRaise(db: Tx, payload: RaisePayload): Promise<RaiseResult> {
  const { rows } = await once(() => db.execute<{ r: RaiseResult }>(sql`SELECT clarion_create_alert(${JSON.stringify(payload)}::jsonb) AS r`));
  return (rows[0] as { r: RaiseResult }).r;
}

/**
 * A raise with the hospital's cached settings; when the function finds they changed, once more with
 * fresh ones (a second change in between is a real error, not a loop).
 */
export async function raiseAlert(db: Tx, hospitalId: string, build: (s: CachedSettings) => RaisePayload, write = writeRaise): Promise<RaiseResult> {
  try {
    return await write(db, build(await hospitalSettings(db, hospitalId)));
  } catch (err) {
    if (sqlState(err) !== SETTINGS_CHANGED) throw raiseError(err);
  }
  try {
    return await write(db, build(await hospitalSettings(db, hospitalId, true)));
  } catch (err) {
    throw raiseError(err);
  }
}
