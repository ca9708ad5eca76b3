// npm run audit:verify [-- --chain <hospital id|system> | --hospital <slug>]
// Verifies the audit hash chains (every hospital's and the system chain) with audit_verify() and
// exits 1 when any chain is broken. Honours DATABASE_URL. Has no time budget: a chain of millions of
// rows takes a while (roughly a minute per few million rows).
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../server/config.js';
import { listChainIds, verifyChains } from '../server/audit/verify.js';
import { createDatabase, createPool } from '../server/db/client.js';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { chain: { type: 'string', multiple: true }, hospital: { type: 'string', multiple: true } } });
  const config = loadConfig();
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
    if (!chains.length) chains = await listChainIds(db);
    let broken = 0;
    const started = performance.now();
    for (const chainId of chains) {
      const t0 = performance.now();
      const [r] = await verifyChains(db, [chainId]);
      if (!r) continue;
      const label = chainId === 'system' ? 'system' : `${slugOf.get(chainId) ?? '?'} (${chainId})`;
      const secs = ((performance.now() - t0) / 1000).toFixed(1);
      if (r.verified) console.log(`ok      ${label}: ${r.rowsChecked} row(s) verified in ${secs} s`);
      else {
        broken++;
        console.log(`BROKEN  ${label}: first bad seq ${r.firstBadSeq}: ${r.problem} (${r.rowsChecked} row(s) checked)`);
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
