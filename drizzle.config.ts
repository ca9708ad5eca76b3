import { defineConfig } from 'drizzle-kit';

// drizzle-kit only generates SQL here; migrations are applied by scripts/migrate.ts, which
// also runs each NNNN_name.down.sql when rolling back.
export default defineConfig({
  dialect: 'postgresql',
  schema: './server/db/schema.ts',
  out: './migrations',
  dbCredentials: { url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/clarion' },
});
