// npm run migrate -- up | down [n] [--confirm-production] | status
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../server/config.js';
import { ensureDatabase } from '../server/db/admin.js';
import { createPool } from '../server/db/client.js';
import { migrateDown, migrateUp, migrationStatus } from '../server/db/migrator.js';

// MIGRATIONS_DIR lets deploy tests point at a copy (e.g. with a deliberately broken migration).
const MIGRATIONS_DIR = process.env.MIGRATIONS_DIR || new URL('../migrations', import.meta.url).pathname;

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { 'confirm-production': { type: 'boolean', default: false } },
  });
  const [command = 'status', countArg] = positionals;
  const config = loadConfig();

  if (command === 'up') await ensureDatabase(config.database.url);
  const pool = createPool(config, { max: 1 });
  try {
    if (command === 'status') {
      const status = await migrationStatus(pool, MIGRATIONS_DIR);
      for (const s of status) console.log(`${s.state.padEnd(12)} ${s.name}${s.appliedAt ? `  (${s.appliedAt.toISOString()})` : ''}`);
      const pending = status.filter((s) => s.state === 'pending').length;
      const bad = status.filter((s) => s.state === 'changed' || s.state === 'missing-file');
      console.log(`${status.length - pending} applied, ${pending} pending`);
      if (bad.length) {
        console.error(`migrations changed or missing after being applied: ${bad.map((b) => b.name).join(', ')}`);
        return 1;
      }
      return 0;
    }
    if (command === 'up') {
      const ran = await migrateUp(pool, MIGRATIONS_DIR, (name) => console.log(`applying ${name}`));
      console.log(ran.length ? `applied ${ran.length} migration(s)` : 'database is up to date');
      return 0;
    }
    if (command === 'down') {
      const steps = countArg === undefined ? 1 : Number(countArg);
      if (!Number.isInteger(steps) || steps < 1) {
        console.error(`down takes a positive whole number of steps, got "${countArg}"`);
        return 2;
      }
      if (config.isProduction && !values['confirm-production']) {
        console.error('refusing to roll back a production database without --confirm-production');
        return 2;
      }
      const ran = await migrateDown(pool, MIGRATIONS_DIR, steps, (name) => console.log(`rolling back ${name}`));
      console.log(`rolled back ${ran.length} migration(s)`);
      return 0;
    }
    console.error(`unknown command "${command}": use up, down [n] or status`);
    return 2;
  } finally {
    await pool.end();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof ConfigError ? err.message : `migration failed: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
