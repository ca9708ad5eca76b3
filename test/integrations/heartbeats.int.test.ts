import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkFeedHeartbeats } from '../../server/integrations/heartbeats.js';
import { authenticateKey } from '../../server/integrations/keys.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';

// Integrations issue: feed heartbeats. A key or an HL7 source that declared heartbeatSeconds and went
// quiet raises one system alert the head doctors see; its return resolves it.
let env: TestEnv;
let server: TestServer;
let t: Tenants;

beforeAll(async () => {
  env = await createTestEnv();
  server = await startTestServer(env);
  t = await seedTenants(env);
});

const openSystemAlerts = async () =>
  (await env.deps.db.execute<{ id: string; title: string; status: string; external_id: string; department_id: string }>(sql`
    SELECT id, title, status, external_id, department_id FROM alerts WHERE source = 'system' AND status IN ('active', 'acknowledged') ORDER BY created_at`)).rows;

describe('feed heartbeats', () => {
  it('a silent key raises one system alert for head doctors; speaking again resolves it', async () => {
    const admin = clientFor(server, await t.token('general', 'admin'));
    const key = await admin.integrations.createKey.mutate({ name: 'ICU monitor gateway', scopes: ['alerts:write'], heartbeatSeconds: 300 });
    expect(await checkFeedHeartbeats(env.deps)).toEqual({ raised: 0, resolved: 0 });
    await env.deps.db.execute(sql`UPDATE api_keys SET created_at = now() - interval '6 minutes' WHERE id = ${key.id}`);
    expect(await checkFeedHeartbeats(env.deps)).toEqual({ raised: 1, resolved: 0 });
    expect(await checkFeedHeartbeats(env.deps)).toEqual({ raised: 0, resolved: 0 });
    const [alert] = await openSystemAlerts();
    expect(alert).toMatchObject({ title: 'ICU monitor gateway silent for 5 min', external_id: `heartbeat:key:${key.id}` });
    const head = clientFor(server, await t.token('general', 'head'));
    expect((await head.alerts.getActive.query()).alerts.map((a) => a.id)).toContain(alert!.id);
    const theirs = clientFor(server, await t.token('riverside', 'head'));
    expect((await theirs.alerts.getActive.query()).alerts.map((a) => a.id)).not.toContain(alert!.id);

    expect(await authenticateKey(env.deps.db, key.key)).not.toBeNull();
    expect(await checkFeedHeartbeats(env.deps)).toEqual({ raised: 0, resolved: 1 });
    expect(await openSystemAlerts()).toEqual([]);
    const { rows } = await env.deps.db.execute<{ detail: { reason: string } }>(sql`SELECT detail FROM alert_events WHERE alert_id = ${alert!.id} AND type = 'resolved'`);
    expect(rows[0]?.detail.reason).toBe('feed_back');
  });

  it('a silent HL7 source raises its alert in its own department; a revoked key raises nothing', async () => {
    const admin = clientFor(server, await t.token('general', 'admin'));
    const k = await admin.integrations.createKey.mutate({ name: 'Old pump feed', scopes: ['alerts:write'], heartbeatSeconds: 60 });
    await admin.integrations.revokeKey.mutate({ keyId: k.id });
    await env.deps.db.execute(sql`UPDATE api_keys SET created_at = now() - interval '1 hour' WHERE id = ${k.id}`);
    const icu = t.hospital.general.departments.ICU;
    const { rows } = await env.deps.db.execute<{ id: string }>(sql`
      INSERT INTO hl7_sources (hospital_id, name, sending_facility, departments, heartbeat_seconds, last_message_at)
      VALUES (${t.hospital.general.id}, 'ICU nurse call', 'ICU_NC', ${JSON.stringify({ ICU: icu })}::jsonb, 90, now() - interval '5 minutes') RETURNING id`);
    expect(await checkFeedHeartbeats(env.deps)).toEqual({ raised: 1, resolved: 0 });
    const open = await openSystemAlerts();
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ title: 'ICU nurse call silent for 90 s', external_id: `heartbeat:hl7:${rows[0]!.id}`, department_id: icu });
  });
});
