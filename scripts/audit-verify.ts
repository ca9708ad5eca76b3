// npm run audit:verify [-- --chain <hospital id|system> | --hospital <slug>] [--anchor FILE ...]
// Verifies the audit hash chains (every hospital's and the system chain) with audit_verify(), then
// against their HMAC anchors (AUDIT_ANCHOR_KEY; server/audit/anchor.ts): the stored ones and those in
// each --anchor FILE (an export's anchor, a backup manifest .json, or a saved anchor or list of them).
// Exits 1 when any chain is broken. Honours DATABASE_URL. Has no time budget: a chain of millions of
// rows takes a while (roughly a minute per few million rows). Never prints the key.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { checkAnchors, verifyingKeys } from '../server/audit/anchor.js';
import { type Anchor, anchorSchema } from '../server/audit/schemas.js';
import { ConfigError, loadConfig } from '../server/config.js';
import { listChainIds, verifyChains } from '../server/audit/verify.js';
import { createDatabase, createPool } from '../server/db/client.js';

// What --anchor accepts: one anchor, a list, an export (audit.getExport's answer) or a backup manifest.
const anchorFile = z.union([
  anchorSchema.transform((a) => [a]),
  z.array(anchorSchema),
  z.object({ anchor: anchorSchema }).transform((e) => [e.anchor]),
  z.object({ auditAnchors: z.array(anchorSchema) }).transform((m) => m.auditAnchors),
]);

function readAnchors(files: string[]): Anchor[] {
  return files.flatMap((file) => {
    const parsed = anchorFile.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) throw new Error(`${file}: no audit anchor in it (expected an anchor, an export or a backup manifest)`);
    return parsed.data;
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { chain: { type: 'string', multiple: true }, hospital: { type: 'string', multiple: true }, anchor: { type: 'string', multiple: true } },
  });
  const config = loadConfig();
  const given = readAnchors(values.anchor ?? []);
  // Verifying a large chain is one long statement: no request-path statement timeout here (0 = none).
  const pool = createPool({ database: { ...config.database, statementTimeoutMs: 0 } }, { max: 1 });
  const db = createDatabase(pool);
  try {
    const { rows: hospitals } = await pool.query<{ id: string; slug: string }>('SELECT id, slug FROM hospitals');
    const slugOf = new Map(hospitals.map((h) => [h.id, h.slug]));
    let chains = values.chain ?? [];
    for (const slug of values.hospital ?? []) {
      const h = hospitals.find((x) => x.slug === slug);
      if (!h) {
        console.error(`no hospital with slug "${slug}"`);
        return 2;
      }
      chains.push(h.id);
    }
    if (!chains.length) chains = [...new Set([...(await listChainIds(db)), ...given.map((a) => a.chainId)])];
    let broken = 0;
    const started = performance.now();
    for (const chainId of chains) {
      const t0 = performance.now();
      const [r] = await verifyChains(db, [chainId]);
      if (!r) continue;
      const anchored = await checkAnchors(db, verifyingKeys(config.secrets), chainId, given);
      const label = chainId === 'system' ? 'system' : `${slugOf.get(chainId) ?? '?'} (${chainId})`;
      const secs = ((performance.now() - t0) / 1000).toFixed(1);
      const anchorNote = anchored.anchoredSeq === null ? 'no anchor yet' : `head seq ${anchored.headSeq}, anchored to seq ${anchored.anchoredSeq} (${anchored.anchors} anchor(s))`;
      if (r.verified && !anchored.problems.length) console.log(`ok      ${label}: ${r.rowsChecked} row(s) verified in ${secs} s; ${anchorNote}`);
      else {
        broken++;
        if (!r.verified) console.log(`BROKEN  ${label}: first bad seq ${r.firstBadSeq}: ${r.problem} (${r.rowsChecked} row(s) checked)`);
        for (const p of anchored.problems) console.log(`BROKEN  ${label}: ${p}`);
      }
    }
    const total = ((performance.now() - started) / 1000).toFixed(1);
    console.log(broken ? `${broken} of ${chains.length} chain(s) BROKEN (${total} s)` : `all ${chains.length} chain(s) intact (${total} s)`);
    return broken ? 1 : 0;
  } finally {
    await pool.end();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof ConfigError ? err.message : `audit:verify failed: ${err instanceof Error ? err.message : err}`);
    process.exit(2);
  },
);
