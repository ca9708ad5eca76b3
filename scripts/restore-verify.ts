// Verifies a backup: npm run restore-verify -- [file] [--keep] [--against-source]
// Restores it into a scratch database on the same server (DATABASE_URL's), then compares every table's
// row count with the backup's manifest (or, with --against-source or without a manifest, with the live
// database) and verifies every audit chain with audit_verify(). Exits 1 when anything differs.
// Without a file, the newest backup in BACKUP_DIR is verified.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { verifyingKeys } from '../server/audit/anchor.js';
import { ConfigError, loadConfig } from '../server/config.js';
import { listBackups, verifyBackup } from '../server/ops/backup.js';

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { keep: { type: 'boolean', default: false }, 'against-source': { type: 'boolean', default: false } } });
  const config = loadConfig();
  const path = positionals[0] ?? (await listBackups(config.backup.dir)).map((f) => join(config.backup.dir, f))[0];
  if (!path) {
    console.error(`no backup given and none in ${config.backup.dir}`);
    return 2;
  }
  const r = await verifyBackup({ path, databaseUrl: config.database.url, compareWith: values['against-source'] ? config.database.url : undefined, keep: values.keep, anchorKey: verifyingKeys(config.secrets) });
  console.log(`backup ${path}: checksum ${r.checksumOk ? 'ok' : 'BAD'}; restored into ${r.scratchDatabase}${values.keep ? ' (kept)' : ' (dropped)'}`);
  for (const t of r.tables) console.log(`  ${t.expected === t.restored ? 'ok  ' : 'DIFF'} ${t.table.padEnd(28)} ${t.restored} row(s)${t.expected === t.restored ? '' : `, expected ${t.expected}`}`);
  for (const c of r.chains) console.log(`  ${c.problem ? 'BAD ' : 'ok  '} audit chain ${c.chainId}: ${c.rowsChecked} row(s)${c.problem ? `: ${c.problem}` : ''}`);
  console.log(r.ok ? 'backup verified' : `BACKUP NOT VERIFIED:\n  ${r.problems.join('\n  ')}`);
  return r.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof ConfigError ? err.message : `restore-verify failed: ${err instanceof Error ? err.message : err}`);
    process.exit(2);
  },
);
