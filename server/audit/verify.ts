import { sql } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import type { ChainVerification } from './schemas.js';

/**
 * Chain verification, done by audit_verify() in SQL (migration 0002) so the verifier hashes with the
 * same function as the writer. Each chain is checked in one statement: the whole chain, in seq order,
 * against its purge anchor.
 */

/** Every chain that can hold rows: one per hospital (chain_id is a foreign key in effect) plus 'system'. */
export async function listChainIds(db: Tx): Promise<string[]> {
  const { rows } = await db.execute<{ chain_id: string }>(sql`
    SELECT id AS chain_id FROM hospitals UNION SELECT 'system' UNION SELECT chain_id FROM audit_chain_anchors ORDER BY 1`);
  return rows.map((r) => r.chain_id);
}

export async function verifyChain(db: Tx, chainId: string): Promise<ChainVerification> {
  const { rows } = await db.execute<{ rows_checked: string; first_bad_seq: string | null; problem: string | null }>(
    sql`SELECT rows_checked, first_bad_seq, problem FROM audit_verify(${chainId})`,
  );
  const r = rows[0];
  return {
    chainId,
    verified: r ? r.first_bad_seq === null : true,
    rowsChecked: Number(r?.rows_checked ?? 0),
    firstBadSeq: r?.first_bad_seq === null || r?.first_bad_seq === undefined ? null : String(r.first_bad_seq),
    problem: r?.problem ?? null,
  };
}

/** Verifies the given chains (default: all of them), one after the other. */
export async function verifyChains(db: Tx, chainIds?: string[]): Promise<ChainVerification[]> {
  const ids = chainIds ?? (await listChainIds(db));
  const out: ChainVerification[] = [];
  for (const id of ids) out.push(await verifyChain(db, id));
  return out;
}

const QUERY_CANCELED = '57014';

/**
 * Verifies one chain within a time budget, for request paths (the compliance report): a chain of
 * millions of rows can take longer than a request should, and then the answer is "not finished"
 * (verified: null), never a wrong "verified".
 */
export async function verifyChainWithin(db: Tx, chainId: string, timeoutMs: number): Promise<ChainVerification> {
  try {
    return await db.transaction(async (tx) => {
      await tx.execute(sql.raw(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(timeoutMs))}`));
      return verifyChain(tx, chainId);
    });
  } catch (err) {
    const code = (err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code;
    if (code !== QUERY_CANCELED) throw err;
    return {
      chainId,
      verified: null,
      rowsChecked: 0,
      firstBadSeq: null,
      problem: `verification did not finish within ${Math.round(timeoutMs / 1000)} s; run npm run audit:verify`,
    };
  }
}
