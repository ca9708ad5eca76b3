import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { dropDatabase, ensureDatabase, maintenanceUrl, withDatabase } from '../../server/db/admin.js';
import { migrateUp } from '../../server/db/migrator.js';

export const BASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const MIGRATIONS = new URL('../../migrations', import.meta.url).pathname;

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
    runId: string;
  }
}

/** Migrates one template database per run; test files clone it with CREATE DATABASE … TEMPLATE. */
export default async function setup(project: TestProject) {
  rmSync(new URL('../../test-artifacts/logs', import.meta.url).pathname, { recursive: true, force: true });
  const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const template = `clarion_tpl_${runId}`;
  const url = withDatabase(BASE_URL, template);
  await ensureDatabase(url);
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await migrateUp(pool, MIGRATIONS);
  } finally {
    await pool.end();
  }
  project.provide('templateDatabase', template);
  project.provide('runId', runId);

  return async () => {
    // Drop the template and anything a crashed file left behind.
    const client = new pg.Client({ connectionString: maintenanceUrl(BASE_URL) });
    await client.connect();
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`clarion_%_${runId}%`]);
    await client.end();
    for (const { datname } of rows) await dropDatabase(withDatabase(BASE_URL, datname));
  };
}
