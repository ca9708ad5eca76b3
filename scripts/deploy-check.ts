// Small checks for scripts/deploy.sh and rollback.sh, with the application's own config parsing:
//   config          the environment parses (loadConfig), prints the profile
//   ping            the database answers
//   applied-count   how many migrations are applied (0 when the table does not exist yet)
//   preflight       all three, plus the migration status (pending ones listed); last line APPLIED=<n>;
//                   exits 1 when a migration changed or went missing after being applied
import { loadConfig } from '../server/config.js';
import { createPool } from '../server/db/client.js';
import { migrationStatus } from '../server/db/migrator.js';

const MIGRATIONS_DIR = process.env.MIGRATIONS_DIR || new URL('../migrations', import.meta.url).pathname;

async function main(): Promise<number> {
  const command = process.argv[2];
  const config = loadConfig();
  if (command === 'config') {
    console.log(`configuration valid (profile ${config.profile})`);
    return 0;
  }
  const pool = createPool(config, { max: 1 });
  try {
    if (command === 'ping') {
      await pool.query('SELECT 1');
      console.log('database reachable');
      return 0;
    }
    if (command === 'preflight') {
      console.log(`configuration valid (profile ${config.profile})`);
      await pool.query('SELECT 1');
      console.log('database reachable');
      const status = await migrationStatus(pool, MIGRATIONS_DIR);
      const pending = status.filter((m) => m.state === 'pending');
      const bad = status.filter((m) => m.state === 'changed' || m.state === 'missing-file');
      for (const m of [...pending, ...bad]) console.log(`${m.state.padEnd(12)} ${m.name}`);
      console.log(`${status.length - pending.length} applied, ${pending.length} pending`);
      if (bad.length) {
        console.error(`migrations changed or missing after being applied: ${bad.map((b) => b.name).join(', ')}`);
        return 1;
      }
      console.log(`APPLIED=${status.filter((m) => m.state === 'applied').length}`);
      return 0;
    }
    if (command === 'applied-count') {
      const { rows } = await pool.query<{ n: number }>("SELECT CASE WHEN to_regclass('clarion_migrations') IS NULL THEN 0 ELSE (SELECT count(*)::int FROM clarion_migrations) END AS n");
      console.log(rows[0]?.n ?? 0);
      return 0;
    }
    console.error(`unknown check "${command}"`);
    return 2;
  } finally {
    await pool.end();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
