// Restores a backup OVER the database in DATABASE_URL (drops and recreates it): tsx scripts/restore.ts <file> --yes
// Used by scripts/deploy.sh and scripts/rollback.sh. Checks the sha256 file first.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../server/config.js';
import { restoreBackup } from '../server/ops/backup.js';

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { yes: { type: 'boolean', default: false } } });
  const path = positionals[0];
  if (!path || !values.yes) {
    console.error('usage: tsx scripts/restore.ts <backup file> --yes   (replaces the database in DATABASE_URL)');
    return 2;
  }
  const config = loadConfig();
  await restoreBackup({ path, databaseUrl: config.database.url });
  console.log(`restored ${path} into ${new URL(config.database.url).pathname.slice(1)}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof ConfigError ? err.message : `restore failed: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
