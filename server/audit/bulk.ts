import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { uuidv7 } from 'uuidv7';
import { AUDIT_COPY_COLUMNS, auditCopyLine, type ChainRow, GENESIS_HASH, type JsonValue, plusYearsMicros, rowHash } from './chain.js';

/**
 * Bulk loading of audit rows that bypasses the per-row trigger: for the large seed and for tests
 * that forge history (rows in the past, identical timestamps). It needs a superuser, because only
 * `session_replication_role = replica` skips triggers for one session without `DISABLE TRIGGER`
 * (which would lock out writers). The chain is computed in Node exactly as the trigger would.
 */

export interface ChainTail {
  seq: number;
  hash: string;
}

/** The last link of a chain: its newest row, else its purge anchor, else the genesis hash. */
export async function readChainTail(client: pg.ClientBase, chainId: string): Promise<ChainTail> {
  const { rows } = await client.query<{ seq: string; hash: string }>(
    `SELECT seq, hash FROM (
       (SELECT seq, hash FROM audit_logs WHERE chain_id = $1 ORDER BY seq DESC LIMIT 1)
       UNION ALL (SELECT seq, hash FROM audit_chain_anchors WHERE chain_id = $1)
     ) t ORDER BY seq DESC LIMIT 1`,
    [chainId],
  );
  return rows[0] ? { seq: Number(rows[0].seq), hash: rows[0].hash } : { seq: 0, hash: GENESIS_HASH };
}

/** Streams COPY lines into audit_logs on a client whose session already skips triggers. */
export async function copyAuditLines(client: pg.ClientBase, lines: AsyncIterable<string> | Iterable<string>): Promise<void> {
  const sink = client.query(copyFrom(`COPY audit_logs (${AUDIT_COPY_COLUMNS.join(', ')}) FROM STDIN`));
  await pipeline(Readable.from(batched(lines)), sink);
}

/** Joins lines into ~256 KiB chunks: one stream write per line would dominate the run time. */
async function* batched(lines: AsyncIterable<string> | Iterable<string>): AsyncGenerator<string> {
  let buf = '';
  for await (const line of lines) {
    buf += line;
    if (buf.length >= 262_144) {
      yield buf;
      buf = '';
    }
  }
  if (buf) yield buf;
}

export async function assertSuperuser(client: pg.ClientBase): Promise<void> {
  const { rows } = await client.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
  if (!rows[0]?.rolsuper) {
    throw new Error('bulk audit loading needs a superuser connection (session_replication_role = replica skips the chain trigger)');
  }
}

/** What a caller gives for one forged row; the chain fields are computed. */
export interface ForgedRow {
  at: Date | number; // a Date, or microseconds since the epoch
  action: string;
  userId?: string | null;
  resource?: string | null;
  resourceId?: string | null;
  outcome?: 'success' | 'failure';
  ipAddress?: string | null;
  userAgent?: string | null;
  sessionId?: string | null;
  metadata?: JsonValue | null;
  /** Defaults to at + 6 years, as the trigger sets it. */
  retentionUntil?: Date | number;
}

const micros = (t: Date | number) => (typeof t === 'number' ? t : t.getTime() * 1000);

/**
 * Appends rows to a hospital's chain without the trigger (superuser only). Runs in its own
 * transaction under the hospital lock, so it cannot interleave with the trigger's writers.
 * Returns the rows as stored.
 */
export async function appendForgedAuditRows(pool: pg.Pool, hospitalId: string | null, forged: ForgedRow[]): Promise<ChainRow[]> {
  const chainId = hospitalId ?? 'system';
  const client = await pool.connect();
  try {
    await assertSuperuser(client);
    await client.query('BEGIN');
    await client.query('SELECT clarion_hospital_lock($1)', [chainId]);
    await client.query('SET LOCAL session_replication_role = replica');
    let tail = await readChainTail(client, chainId);
    const stored: ChainRow[] = [];
    const lines: string[] = [];
    for (const f of forged) {
      const at = micros(f.at);
      const row: ChainRow = {
        id: uuidv7(),
        chainId,
        seq: tail.seq + 1,
        userId: f.userId ?? null,
        hospitalId,
        action: f.action,
        resource: f.resource ?? null,
        resourceId: f.resourceId ?? null,
        outcome: f.outcome ?? 'success',
        ipAddress: f.ipAddress ?? null,
        userAgent: f.userAgent ?? null,
        sessionId: f.sessionId ?? null,
        metadata: f.metadata ?? null,
        timestampMicros: at,
        retentionUntilMicros: f.retentionUntil === undefined ? plusYearsMicros(at, 6) : micros(f.retentionUntil),
        prevHash: tail.hash,
      };
      const hash = rowHash(row);
      lines.push(auditCopyLine(row, hash));
      stored.push(row);
      tail = { seq: row.seq, hash };
    }
    await copyAuditLines(client, lines);
    await client.query('COMMIT');
    return stored;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
