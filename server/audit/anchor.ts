import { createHmac, timingSafeEqual } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Tx } from '../db/client.js';
import { auditHeadAnchors } from '../db/schema.js';
import type { Anchor } from './schemas.js';
import { listChainIds } from './verify.js';

/**
 * Anchoring of each audit chain's head outside the table's reach. The SHA-256 chain shows a row was
 * changed or removed in the middle, but not that the newest rows were cut off, and anyone who can
 * write audit_logs can recompute it. An anchor is an HMAC-SHA256 over (chain id, seq, hash, time),
 * keyed by AUDIT_ANCHOR_KEY, which lives in the environment and never in the database: a chain whose
 * head is below its last anchor, or whose anchored row now has another hash, is caught, and an
 * anchor row cannot be forged without the key. Anchors are recorded by the worker (every
 * AUDIT_ANCHOR_EVERY_MS, and in its log), in every export and in every backup manifest, so an attacker
 * who also deletes anchor rows is still caught by the copies kept elsewhere.
 */

export type ChainHead = { chainId: string; seq: number; hash: string };

const macInput = (a: Omit<Anchor, 'mac'>) => `clarion-audit-anchor-v1|${a.chainId}|${a.seq}|${a.hash}|${a.anchoredAt}`;

export function anchorMac(key: Buffer, a: Omit<Anchor, 'mac'>): string {
  return createHmac('sha256', key).update(macInput(a)).digest('hex');
}

/** The key that signs now, or it and the retired keys that still verify what they signed (rotation). */
export type AnchorKeys = Buffer | readonly Buffer[];

/** The keys a verifier accepts: AUDIT_ANCHOR_KEY first, then AUDIT_ANCHOR_PREVIOUS_KEYS. */
export const verifyingKeys = (secrets: { auditAnchorKey: Buffer; auditAnchorPreviousKeys: readonly Buffer[] }): Buffer[] => [
  secrets.auditAnchorKey,
  ...secrets.auditAnchorPreviousKeys,
];

export function anchorVerifies(keys: AnchorKeys, a: Anchor): boolean {
  const given = Buffer.from(a.mac, 'hex');
  return (Buffer.isBuffer(keys) ? [keys] : keys).some((key) => {
    const expected = Buffer.from(anchorMac(key, a), 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

export function signAnchor(key: Buffer, head: ChainHead, at: Date = new Date()): Anchor {
  const unsigned = { chainId: head.chainId, seq: head.seq, hash: head.hash, anchoredAt: at.toISOString() };
  return { ...unsigned, mac: anchorMac(key, unsigned) };
}

/**
 * A chain's newest row (as of `asOf`, when given), or its purge anchor when retention removed every
 * row; null for a chain that never had one. Uses the (chain_id, seq) index: cheap on any size.
 */
export async function chainHead(db: Tx, chainId: string, asOf?: Date): Promise<ChainHead | null> {
  const { rows } = await db.execute<{ seq: string; hash: string }>(sql`
    (SELECT seq::text AS seq, hash FROM audit_logs WHERE chain_id = ${chainId}
       ${asOf ? sql`AND timestamp <= ${asOf.toISOString()}` : sql``} ORDER BY seq DESC LIMIT 1)
    UNION ALL (SELECT seq::text, hash FROM audit_chain_anchors WHERE chain_id = ${chainId})
    LIMIT 1`);
  const r = rows[0];
  return r ? { chainId, seq: Number(r.seq), hash: r.hash } : null;
}

/** Every chain's head, in one snapshot if `db` is inside one (backups). */
export async function chainHeads(db: Tx): Promise<ChainHead[]> {
  const out: ChainHead[] = [];
  for (const id of await listChainIds(db)) {
    const head = await chainHead(db, id);
    if (head) out.push(head);
  }
  return out;
}

/** A chain's stored anchors, oldest first (or only the newest one). */
export async function storedAnchors(db: Tx, chainId: string, options: { newestOnly?: boolean } = {}): Promise<Anchor[]> {
  const { rows } = await db.execute<{ seq: string; hash: string; anchored_at: Date | string; mac: string }>(
    options.newestOnly
      ? sql`SELECT seq::text AS seq, hash, anchored_at, mac FROM audit_head_anchors WHERE chain_id = ${chainId} ORDER BY seq DESC LIMIT 1`
      : sql`SELECT seq::text AS seq, hash, anchored_at, mac FROM audit_head_anchors WHERE chain_id = ${chainId} ORDER BY seq`,
  );
  return rows.map((r) => ({ chainId, seq: Number(r.seq), hash: r.hash, anchoredAt: new Date(r.anchored_at).toISOString(), mac: r.mac }));
}

export interface AnchorCheck {
  chainId: string;
  /** Anchors looked at (stored and given), and the highest seq among those that verify. */
  anchors: number;
  anchoredSeq: number | null;
  headSeq: number | null;
  problems: string[];
}

const MAX_LISTED = 5;

/**
 * Checks a chain against its anchors (the stored ones plus any given, e.g. from an export or a backup
 * manifest): every anchor's HMAC verifies; the head is not below the highest anchored seq; every
 * anchored row still present has the anchored hash. Complements audit_verify(), which checks the links.
 */
export async function checkAnchors(db: Tx, key: AnchorKeys, chainId: string, given: Anchor[] = [], options: { stored?: boolean } = {}): Promise<AnchorCheck> {
  const stored = options.stored === false ? [] : await storedAnchors(db, chainId);
  const anchors = [...stored, ...given.filter((a) => a.chainId === chainId)];
  const problems: string[] = [];
  const valid: Anchor[] = [];
  for (const a of anchors) {
    if (anchorVerifies(key, a)) valid.push(a);
    else problems.push(`anchor of seq ${a.seq} (${a.anchoredAt}) does not verify: forged, or made with another AUDIT_ANCHOR_KEY`);
  }
  const head = await chainHead(db, chainId);
  const top = valid.reduce<Anchor | null>((m, a) => (!m || a.seq > m.seq ? a : m), null);
  if (top && (head?.seq ?? 0) < top.seq) {
    problems.push(`chain head is seq ${head?.seq ?? 0}, but seq ${top.seq} was anchored at ${top.anchoredAt}: rows deleted from the end`);
  }
  if (valid.length) {
    // The anchored rows still in the table (or the purge anchor, once retention removed them).
    const seqs = [...new Set(valid.map((a) => a.seq))];
    const { rows } = await db.execute<{ seq: string; hash: string }>(sql`
      SELECT seq::text AS seq, hash FROM audit_logs WHERE chain_id = ${chainId} AND seq = ANY(${`{${seqs.join(',')}}`}::bigint[])
      UNION ALL SELECT seq::text, hash FROM audit_chain_anchors WHERE chain_id = ${chainId}`);
    const actual = new Map(rows.map((r) => [Number(r.seq), r.hash]));
    const rewritten = valid.filter((a) => actual.has(a.seq) && actual.get(a.seq) !== a.hash);
    for (const a of rewritten.slice(0, MAX_LISTED)) {
      problems.push(`row seq ${a.seq} no longer has the hash anchored at ${a.anchoredAt}: the chain was rewritten`);
    }
    if (rewritten.length > MAX_LISTED) problems.push(`… and ${rewritten.length - MAX_LISTED} more rewritten anchored row(s)`);
  }
  return { chainId, anchors: anchors.length, anchoredSeq: top?.seq ?? null, headSeq: head?.seq ?? null, problems };
}

/**
 * Records an anchor of every chain whose head moved since its last anchor. A chain that no longer
 * matches its last anchor is NOT anchored again (that would bless the tampering): it is logged as an
 * error for audit:verify to explain. Each anchor is also logged (never the key), so a copy lives in
 * the log pipeline as well. Safe to run twice at once: (chain_id, seq) is unique.
 */
export async function recordAnchors(db: Tx, key: Buffer, log: Pick<Logger, 'info' | 'error'>, previousKeys: readonly Buffer[] = []): Promise<{ anchored: number; refused: number }> {
  let anchored = 0;
  let refused = 0;
  for (const chainId of await listChainIds(db)) {
    const head = await chainHead(db, chainId);
    if (!head) continue;
    // Only the newest anchor is checked here (cheap every few minutes); audit:verify checks them all.
    const [last] = await storedAnchors(db, chainId, { newestOnly: true });
    if (last && head.seq === last.seq && head.hash === last.hash) continue;
    if (last) {
      // The last anchor may predate a key rotation: the retired keys still verify it.
      const check = await checkAnchors(db, [key, ...previousKeys], chainId, [last], { stored: false });
      if (check.problems.length) {
        refused++;
        log.error({ chainId, problems: check.problems }, 'audit chain does not match its anchors; not anchored again (run npm run audit:verify)');
        continue;
      }
    }
    const anchor = signAnchor(key, head);
    const inserted = await db
      .insert(auditHeadAnchors)
      .values({ chainId, seq: anchor.seq, hash: anchor.hash, anchoredAt: new Date(anchor.anchoredAt), mac: anchor.mac })
      .onConflictDoNothing()
      .returning({ id: auditHeadAnchors.id });
    if (inserted.length) {
      anchored++;
      log.info({ anchor }, 'audit chain head anchored');
    }
  }
  return { anchored, refused };
}
