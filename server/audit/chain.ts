import { createHash } from 'node:crypto';

/**
 * The hash chain computed in Node, byte-for-byte as audit_row_hash() computes it in SQL (migration
 * 0002). Only bulk loaders (the large seed, tests that forge history) use it: application code always
 * inserts through the trigger. test/audit/chain-node.int.test.ts proves the two agree.
 */

export const GENESIS_HASH = '0'.repeat(64);

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** jsonb orders object keys by length, then bytewise (UTF-8); the last duplicate wins. */
function jsonbKeyOrder(a: string, b: string): number {
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ba.length - bb.length || Buffer.compare(ba, bb);
}

/**
 * The text Postgres prints for a jsonb value: `{"k": v, "k2": v2}`, `[1, 2]`. Strings escape like
 * JSON.stringify (both use lower-case \u00xx for control characters). Numbers must be integers or
 * plain decimals: jsonb keeps numeric scale (1.0 stays 1.0), which JS cannot represent.
 */
export function jsonbText(value: JsonValue): string {
  if (value === null) return 'null';
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('jsonb cannot hold a non-finite number');
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(jsonbText).join(', ')}]`;
  const keys = Object.keys(value).sort(jsonbKeyOrder);
  return `{${keys.map((k) => `${JSON.stringify(k)}: ${jsonbText(value[k] as JsonValue)}`).join(', ')}}`;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** Microseconds since the epoch → `YYYY-MM-DDTHH:MM:SS.ffffffZ`, as to_char(… 'US"Z"') renders it in UTC. */
export function isoMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const d = new Date(ms);
  const us = micros - ms * 1000;
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T` +
    `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.` +
    `${pad(d.getUTCMilliseconds() * 1000 + us, 6)}Z`
  );
}

/** timestamp + interval '6 years' as Postgres computes it in UTC: same calendar day, clamped to month end. */
export function plusYearsMicros(micros: number, years: number): number {
  const ms = Math.floor(micros / 1000);
  const d = new Date(ms);
  const y = d.getUTCFullYear() + years;
  const m = d.getUTCMonth();
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  const shifted = Date.UTC(y, m, Math.min(d.getUTCDate(), lastDay), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
  return shifted * 1000 + (micros - ms * 1000);
}

/** The stored columns of one audit row, chain fields included. Timestamps in microseconds (UTC). */
export interface ChainRow {
  id: string;
  chainId: string;
  seq: number;
  userId: string | null;
  hospitalId: string | null;
  action: string;
  resource: string | null;
  resourceId: string | null;
  outcome: 'success' | 'failure';
  ipAddress: string | null;
  userAgent: string | null;
  sessionId: string | null;
  metadata: JsonValue | null;
  timestampMicros: number;
  retentionUntilMicros: number;
  prevHash: string;
}

const CANONICAL_KEYS = [
  'id',
  'chain_id',
  'seq',
  'user_id',
  'hospital_id',
  'action',
  'resource',
  'resource_id',
  'outcome',
  'ip_address',
  'user_agent',
  'session_id',
  'metadata',
  'timestamp',
  'retention_until',
] as const;
type CanonicalKey = (typeof CANONICAL_KEYS)[number];
// The key order jsonb prints, computed once (the large seed hashes millions of rows).
const ORDERED_KEYS = [...CANONICAL_KEYS].sort(jsonbKeyOrder).map((k) => [k, `${JSON.stringify(k)}: `] as const);

/** The canonical text audit_row_hash() hashes (after `prev_hash || '|'`): jsonb_build_object(…)::text. */
export function canonicalText(r: ChainRow): string {
  const v: Record<CanonicalKey, JsonValue> = {
    id: r.id,
    chain_id: r.chainId,
    seq: String(r.seq),
    user_id: r.userId,
    hospital_id: r.hospitalId,
    action: r.action,
    resource: r.resource,
    resource_id: r.resourceId,
    outcome: r.outcome,
    ip_address: r.ipAddress,
    user_agent: r.userAgent,
    session_id: r.sessionId,
    metadata: r.metadata,
    timestamp: isoMicros(r.timestampMicros),
    retention_until: isoMicros(r.retentionUntilMicros),
  };
  let out = '{';
  for (let i = 0; i < ORDERED_KEYS.length; i++) {
    const [key, prefix] = ORDERED_KEYS[i]!;
    out += (i ? ', ' : '') + prefix + jsonbText(v[key]);
  }
  return out + '}';
}

export function rowHash(r: ChainRow): string {
  return createHash('sha256').update(`${r.prevHash}|${canonicalText(r)}`, 'utf8').digest('hex');
}

/** Escapes one value for COPY … FROM STDIN (text format); null is \N. */
export function copyField(v: string | number | null): string {
  if (v === null) return '\\N';
  const s = String(v);
  return /[\\\t\n\r]/.test(s) ? s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : s;
}

// The COPY columns: the hashed content, then the chain links.
export const AUDIT_COPY_COLUMNS = [...CANONICAL_KEYS, 'prev_hash', 'hash'] as const;

/** One COPY line (with its newline) for a row whose hash has been computed. */
export function auditCopyLine(r: ChainRow, hash: string): string {
  return (
    [
      r.id,
      r.chainId,
      r.seq,
      r.userId,
      r.hospitalId,
      r.action,
      r.resource,
      r.resourceId,
      r.outcome,
      r.ipAddress,
      r.userAgent,
      r.sessionId,
      r.metadata === null ? null : jsonbText(r.metadata),
      isoMicros(r.timestampMicros),
      isoMicros(r.retentionUntilMicros),
      r.prevHash,
      hash,
    ]
      .map(copyField)
      .join('\t') + '\n'
  );
}
