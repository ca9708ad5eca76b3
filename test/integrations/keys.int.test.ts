import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { authenticateKey } from '../../server/integrations/keys.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';

// Integrations issue, part 1: API keys — shown once, stored hashed, scoped, expiring, revoked within a
// second, per hospital, audited.
let env: TestEnv;
let server: TestServer;
let t: Tenants;
let admin: ReturnType<typeof clientFor>;

beforeAll(async () => {
  env = await createTestEnv();
  server = await startTestServer(env);
  t = await seedTenants(env);
  admin = clientFor(server, await t.token('general', 'admin'));
});

describe('API keys', () => {
  it('is shown once and stored as a hash; the list shows its prefix; it authenticates until revoked (within a second)', async () => {
    const created = await admin.integrations.createKey.mutate({ name: 'ICU monitor gateway', scopes: ['alerts:write', 'alerts:read'], heartbeatSeconds: 300 });
    expect(created.key).toMatch(/^clk_[\w-]{43}$/);
    expect(created.key.startsWith(created.keyPrefix)).toBe(true);
    const { rows } = await env.deps.db.execute<{ key_hash: string }>(sql`SELECT key_hash FROM api_keys WHERE id = ${created.id}`);
    expect(rows[0]?.key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toContain(created.key);
    const listed = await admin.integrations.listKeys.query();
    expect(JSON.stringify(listed)).not.toContain(created.key);
    expect(listed.keys.find((k) => k.id === created.id)).toMatchObject({ name: 'ICU monitor gateway', heartbeatSeconds: 300, revokedAt: null });

    expect(await authenticateKey(env.deps.db, created.key)).toMatchObject({ keyId: created.id, hospitalId: t.hospital.general.id, name: 'ICU monitor gateway' });
    expect((await admin.integrations.listKeys.query()).keys.find((k) => k.id === created.id)?.lastUsedAt).not.toBeNull();
    expect(await authenticateKey(env.deps.db, `${created.key.slice(0, -1)}x`)).toBeNull();
    expect(await authenticateKey(env.deps.db, 'Bearer nonsense')).toBeNull();

    await admin.integrations.revokeKey.mutate({ keyId: created.id });
    await new Promise((r) => setTimeout(r, 1_050));
    expect(await authenticateKey(env.deps.db, created.key)).toBeNull();
    const { rows: audit } = await env.deps.db.execute<{ action: string; metadata: unknown }>(sql`SELECT action, metadata FROM audit_logs WHERE resource_id = ${created.id} ORDER BY seq`);
    expect(audit.map((a) => a.action)).toEqual(['api_key.created', 'api_key.revoked']);
    expect(JSON.stringify(audit)).not.toContain(created.key);
  });

  it('an expired key does not authenticate; names are unique per hospital; bad input is refused and writes nothing', async () => {
    const k = await admin.integrations.createKey.mutate({ name: 'Short-lived', scopes: ['alerts:read'], expiresAt: new Date(Date.now() + 60_000).toISOString() });
    await env.deps.db.execute(sql`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = ${k.id}`);
    expect(await authenticateKey(env.deps.db, k.key)).toBeNull();
    await expect(admin.integrations.createKey.mutate({ name: 'Short-lived', scopes: ['alerts:read'] })).rejects.toMatchObject({ data: { code: 'CONFLICT' } });
    const before = (await admin.integrations.listKeys.query()).keys.length;
    for (const bad of [
      { name: '', scopes: ['alerts:read'] },
      { name: 'x', scopes: [] },
      { name: 'x', scopes: ['alerts:delete'] },
      { name: 'x', scopes: ['alerts:read'], expiresAt: '2020-01-01T00:00:00.000Z' },
      { name: 'x', scopes: ['alerts:read'], heartbeatSeconds: 5 },
    ]) {
      await expect(admin.integrations.createKey.mutate(bad as never), JSON.stringify(bad)).rejects.toMatchObject({ data: { code: 'BAD_REQUEST' } });
    }
    expect((await admin.integrations.listKeys.query()).keys.length).toBe(before);
  });

  it("is its hospital's only: another hospital's admin cannot see or revoke it; non-admins cannot manage keys", async () => {
    const k = await admin.integrations.createKey.mutate({ name: 'Nurse call', scopes: ['alerts:write'] });
    const theirs = clientFor(server, await t.token('riverside', 'admin'));
    expect((await theirs.integrations.listKeys.query()).keys.map((x) => x.id)).not.toContain(k.id);
    await expect(theirs.integrations.revokeKey.mutate({ keyId: k.id })).rejects.toMatchObject({ data: { code: 'NOT_FOUND' } });
    const head = clientFor(server, await t.token('general', 'head'));
    await expect(head.integrations.listKeys.query()).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } });
    expect(await authenticateKey(env.deps.db, k.key)).toMatchObject({ hospitalId: t.hospital.general.id });
  });
});
