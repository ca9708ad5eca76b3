// npm run seed                  the development data set (idempotent)
// npm run seed -- --scale large  benchmark data: 100k users, 10M audit rows over six years
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../server/config.js';
import { createPool } from '../server/db/client.js';
import { DEV_PASSWORD, devAccounts, devEmail, devHospitals, seedDevelopmentWith } from '../server/seed/dev.js';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { scale: { type: 'string', default: 'dev' } } });
  const config = loadConfig();
  if (config.isProduction) {
    console.error('refusing to seed a production database (demo accounts with a published password)');
    return 2;
  }
  if (values.scale === 'large') {
    const pool = createPool(config);
    try {
      const { seedLarge } = await import('./seed-large.js');
      await seedLarge(pool);
      return 0;
    } finally {
      await pool.end();
    }
  }
  if (values.scale !== 'dev') {
    console.error(`unknown --scale "${values.scale}": use dev or large`);
    return 2;
  }
  const report = await seedDevelopmentWith(config);
  console.log(`seeded: ${report.hospitals} hospital(s), ${report.users} user(s), ${report.alerts} alert(s) added`);
  console.log(`demo logins (password ${DEV_PASSWORD}):`);
  for (const h of devHospitals) console.log(`  ${h.name}: ${devAccounts.map((a) => devEmail(a.local, h.slug)).join(', ')}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof ConfigError ? err.message : `seed failed: ${err instanceof Error ? err.stack : err}`);
    process.exit(1);
  },
);
