// Backs up the database: npm run backup [-- --verify]  (scripts/backup.sh runs this)
// pg_dump -Fc into BACKUP_DIR, with a sha256 file and a manifest of row counts taken in the same snapshot;
// keeps the newest BACKUP_KEEP. --verify restores the new backup into a scratch database and checks it.
import { parseArgs } from 'node:util';
import { verifyingKeys } from '../server/audit/anchor.js';
import { ConfigError, loadConfig } from '../server/config.js';
import { takeBackup, verifyBackup } from '../server/ops/backup.js';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { verify: { type: 'boolean', default: false }, tag: { type: 'string' }, json: { type: 'boolean', default: false } } });
  const config = loadConfig();
  const result = await takeBackup({ databaseUrl: config.database.url, dir: config.backup.dir, keep: config.backup.keep, anchorKey: config.secrets.auditAnchorKey, tag: values.tag });
  const verification = values.verify ? await verifyBackup({ path: result.path, databaseUrl: config.database.url, anchorKey: verifyingKeys(config.secrets) }) : undefined;
  if (values.json) console.log(JSON.stringify({ path: result.path, sha256: result.sha256, bytes: result.bytes, removed: result.removed, verified: verification?.ok }));
  else {
    console.log(`backup ${result.path} (${result.bytes} bytes, sha256 ${result.sha256})`);
    for (const r of result.removed) console.log(`removed old backup ${r}`);
    if (verification) console.log(verification.ok ? `verified: restored into a scratch database; ${verification.tables.length} tables and ${verification.chains.length} audit chain(s) match` : `VERIFY FAILED:\n  ${verification.problems.join('\n  ')}`);
  }
  return verification && !verification.ok ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof ConfigError ? err.message : `backup failed: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
