import { createHash } from 'node:crypto';
import { TRPCError } from '@trpc/server';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import { idempotencyKeys } from '../db/schema.js';
import type { KeyCaller } from '../integrations/keys.js';

/** Stored answers of this age are forgotten: the same key then starts a new request. */
const KEEP_MS = 24 * 3600_000;

const badKey = () => new TRPCError({ code: 'BAD_REQUEST', message: 'Idempotency-Key must be 1 to 255 printable characters' });

/**
 * `Idempotency-Key` (IETF draft): the first request with a key runs; a repeat with the same request
 * gets the first answer (status and body), never a second alert; the same key with another request
 * is refused with 422. The primary-key insert is the lock: of two concurrent duplicates one inserts,
 * the other finds the row still without an answer and is told to retry (409). A request that fails
 * forgets its key, so a client may retry it after fixing what was wrong.
 */
export async function idempotent<T>(db: Tx, caller: KeyCaller, header: string | undefined, request: string, run: () => Promise<T>, status = 201): Promise<T> {
  if (header === undefined) return run();
  const key = header;
  if (!key || key.length > 255 || !/^[\x21-\x7e]+$/.test(key)) throw badKey();
  const requestHash = createHash('sha256').update(request).digest('hex');
  const where = and(eq(idempotencyKeys.apiKeyId, caller.keyId), eq(idempotencyKeys.key, key));
  const [mine] = await db
    .insert(idempotencyKeys)
    .values({ hospitalId: caller.hospitalId, apiKeyId: caller.keyId, key, requestHash })
    .onConflictDoNothing()
    .returning({ key: idempotencyKeys.key });
  if (!mine) {
    const [row] = await db.select().from(idempotencyKeys).where(where);
    if (row && Date.now() - row.createdAt.getTime() > KEEP_MS) {
      await db.delete(idempotencyKeys).where(and(where, eq(idempotencyKeys.createdAt, row.createdAt)));
      return idempotent(db, caller, key, request, run, status);
    }
    if (row && row.requestHash !== requestHash) {
      throw new TRPCError({ code: 'UNPROCESSABLE_CONTENT', message: 'This Idempotency-Key was already used with a different request; use a new key' });
    }
    if (!row || row.status === null) throw new TRPCError({ code: 'CONFLICT', message: 'A request with this Idempotency-Key is still in progress; retry shortly' });
    return row.response as T;
  }
  let answer: T;
  try {
    answer = await run();
  } catch (err) {
    await db.delete(idempotencyKeys).where(and(where, isNull(idempotencyKeys.status)));
    throw err;
  }
  await db.update(idempotencyKeys).set({ status, response: answer as object }).where(where);
  return answer;
}

/**
 * Forgets stored answers past KEEP_MS (the worker's hourly idempotency-cleanup job): a key older than
 * that starts a new request anyway, so the rows only take space. Deleted in batches so one run never
 * holds a long lock on a busy integration's table. Returns how many went.
 */
export async function forgetOldIdempotencyKeys(db: Tx, batch = 5_000): Promise<number> {
  let removed = 0;
  for (;;) {
    const { rowCount } = await db.execute(sql`
      DELETE FROM idempotency_keys WHERE (api_key_id, key) IN (
        SELECT api_key_id, key FROM idempotency_keys WHERE created_at < now() - make_interval(secs => ${KEEP_MS / 1000}) LIMIT ${batch})`);
    removed += rowCount ?? 0;
    if ((rowCount ?? 0) < batch) return removed;
  }
}
