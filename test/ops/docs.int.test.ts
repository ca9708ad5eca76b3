import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateDocs } from '../../scripts/gen-docs.js';
import { listProcedures } from '../fuzz/procedures.js';

const docs = new URL('../../docs/', import.meta.url).pathname;

describe('generated documentation', () => {
  it('docs/api.md and docs/database.md are up to date (run `npm run docs` after changing a router or the schema)', async () => {
    const fresh = await generateDocs();
    expect(readFileSync(`${docs}api.md`, 'utf8'), 'docs/api.md is stale: npm run docs').toBe(fresh['api.md']);
    expect(readFileSync(`${docs}database.md`, 'utf8'), 'docs/database.md is stale: npm run docs').toBe(fresh['database.md']);
  });

  it('documents every procedure, with the permission the middleware really checks', async () => {
    const { 'api.md': api } = await generateDocs();
    for (const p of listProcedures()) expect(api).toContain(`### ${p.path}`);
    expect(api).toMatch(/`users\.create`.*\| admin \(permission `user\.manage`\)/);
    expect(api).toMatch(/`alerts\.create`.*\| operator, admin \(permission `alert\.create`\)/);
    expect(api).toMatch(/`auth\.login`.*\| public/);
  });

  it('the ER diagram has every table and its foreign keys', async () => {
    const { 'database.md': db } = await generateDocs();
    expect(db).toContain('```mermaid\nerDiagram');
    for (const t of ['hospitals', 'departments', 'users', 'alerts', 'alert_events', 'audit_logs', 'sessions']) expect(db).toMatch(new RegExp(`\\n  ${t} \\{`));
    expect(db).toContain('hospitals ||--o{ departments : "hospital_id"');
  });
});
