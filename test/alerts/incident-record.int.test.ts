import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { incidentRecordSchema, type IncidentRecord } from '../../server/alerts/incident-schemas.js';
import { canonicalJson, publicKeyInfo, sha256Hex, signRecord } from '../../server/alerts/incident-signing.js';
import { ConfigError, DEVELOPMENT_INCIDENT_SIGNING_KEY, loadConfig } from '../../server/config.js';
import { sendDueAttempts } from '../../server/notifications/sender.js';
import { asAttacker, trpcError } from '../audit/helpers.js';
import { runScript } from '../support/cli.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { startTelephonyPeer, type TelephonyPeer } from '../support/telephony-peer.js';
import { seedTenants, type Tenants } from '../support/tenants.js';

// Issue 19 item 5: the signed incident record. A real alert is raised, paged (an SMS through the
// telephony peer, delivered), declined by one person with a reason, seen on a board and acknowledged
// by another; the head doctor's record of it is checked for content, then handed to the verify CLI as
// a child process, intact and tampered with in each way a risk team would need to catch.
let env: TestEnv;
let server: TestServer;
let t: Tenants;
let phone: TelephonyPeer;
let head: ReturnType<typeof clientFor>;
let alertId: string;
let out: Awaited<ReturnType<typeof head.alerts.incidentRecord.query>>;
const dir = mkdtempSync(join(tmpdir(), 'clarion-incident-'));
const TITLE = 'Patient desaturating, bed 2';
const REASON = 'In theatre with a trauma';

const verify = (file: string, ...args: string[]) => runScript('scripts/incident-verify.ts', [file, ...args], {});
const save = (name: string, text: string | Buffer) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

beforeAll(async () => {
  phone = await startTelephonyPeer();
  env = await createTestEnv({ TELEPHONY_URL: phone.baseUrl, TELEPHONY_ACCOUNT_SID: phone.accountSid, TELEPHONY_AUTH_TOKEN: phone.authToken, TELEPHONY_FROM: '+15550100000' });
  server = await startTestServer(env);
  // The provider calls back the URL it was given: this server's.
  (env.deps.config as { publicUrl: string }).publicUrl = server.url;
  t = await seedTenants(env);
  const admin = clientFor(server, await t.token('general', 'admin'));
  const operator = clientFor(server, await t.token('general', 'operator'));
  const doctor = clientFor(server, await t.token('general', 'doctor.icu'));
  const nurse = clientFor(server, await t.token('general', 'nurse.icu'));
  head = clientFor(server, await t.token('general', 'head'));
  const doc = t.user('general', 'doctor.icu');
  const nur = t.user('general', 'nurse.icu');
  await admin.hospitals.updateSettings.mutate({
    timezone: 'Europe/Berlin',
    escalation: { high: { levelTimeoutsSeconds: [600], targets: [[{ kind: 'user', userId: doc.id }, { kind: 'user', userId: nur.id }]] } },
  });
  await env.deps.db.execute(sql`INSERT INTO contacts (hospital_id, user_id, channel, address, verified_at) VALUES (${doc.hospitalId}, ${doc.id}, 'sms', '+15550100123', now())`);
  await doctor.notifications.setRules.mutate({ rules: { critical: [], high: [{ channel: 'sms', delaySeconds: 0 }], medium: [], low: [] } });

  const a = await operator.alerts.create.mutate({ title: TITLE, priority: 'high', alertType: 'medical', departmentId: t.hospital.general.departments.ICU, roomNumber: '312' });
  alertId = a.id;
  for (let i = 0; i < 200; i++) {
    const { rows } = await env.deps.db.execute(sql`SELECT 1 FROM page_attempts WHERE alert_id = ${alertId}`);
    if (rows.length) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await sendDueAttempts(env.deps);
  expect(phone.messages).toHaveLength(1);
  expect(await phone.statusCallback(`${server.url}/hooks/telephony/status`, { sid: phone.messages[0]!.sid, kind: 'sms', status: 'delivered' })).toBe(204);
  await nurse.alerts.decline.mutate({ alertId, reason: REASON });
  await doctor.alerts.reportReceipts.mutate({ receipts: [{ alertId, kind: 'seen' }] });
  await doctor.alerts.acknowledge.mutate({ alertId });
  out = await head.alerts.incidentRecord.query({ alertId });
});

describe('alerts.incidentRecord', () => {
  it('holds every event, page, attempt, receipt and audit row of the alert, each audited step with its chain seq and hash', () => {
    const r = incidentRecordSchema.parse(JSON.parse(out.json));
    expect(r.alert).toMatchObject({ id: alertId, title: TITLE, status: 'acknowledged' });
    expect(r.hospital).toMatchObject({ id: t.hospital.general.id, timezone: 'Europe/Berlin' });
    expect(r.generatedBy).toMatchObject({ id: t.user('general', 'head').id, role: 'head_doctor' });
    const types = r.events.map((e) => e.type);
    expect(types[0]).toBe('created');
    expect(types).toEqual(expect.arrayContaining(['created', 'paged', 'declined', 'acknowledged']));
    // Every lifecycle event was audited with it; the reference is that row's seq and hash.
    for (const e of r.events) {
      expect(e.audit, e.type).not.toBeNull();
      const entry = r.audit.find((x) => x.seq === e.audit!.seq);
      expect(entry?.hash).toBe(e.audit!.hash);
      // The row names the change's last event: a decline that escalates is two events under one row.
      expect(Number((entry?.metadata as { eventId?: string } | undefined)?.eventId)).toBeGreaterThanOrEqual(Number(e.id));
    }
    expect(r.audit.map((e) => e.action)).toEqual(expect.arrayContaining(['alert.created', 'alert.paged', 'alert.declined', 'alert.acknowledged']));
    expect(r.audit.every((e) => e.chainId === t.hospital.general.id && /^[0-9a-f]{64}$/.test(e.hash))).toBe(true);

    const nurse = r.pages.find((p) => p.userId === t.user('general', 'nurse.icu').id);
    expect(nurse).toMatchObject({ response: 'declined', declineReason: REASON, level: 0, reason: 'named' });
    const doctor = r.pages.find((p) => p.userId === t.user('general', 'doctor.icu').id);
    expect(doctor).toMatchObject({ response: 'acknowledged', declineReason: null });
    expect(doctor?.readAt).not.toBeNull();

    expect(r.attempts).toHaveLength(1);
    expect(r.attempts[0]).toMatchObject({ channel: 'sms', address: '+1•••••0123', providerId: phone.messages[0]!.sid, status: 'delivered', pageId: doctor!.id });
    expect(out.json).not.toContain('+15550100123');
    expect(r.receipts).toEqual([expect.objectContaining({ userId: t.user('general', 'doctor.icu').id })]);
    expect(r.people.map((p) => p.name)).toEqual(expect.arrayContaining(['Olive Operator', 'Dr. Ivan ICU', 'Nia ICU Nurse', 'Dr. Harper Head']));
  });

  it('is canonical JSON signed with the configured key, and its export is audited with its SHA-256', async () => {
    expect(out.json).toBe(canonicalJson(JSON.parse(out.json)));
    expect(out.sha256).toBe(sha256Hex(out.json));
    expect(out.record.signature).toMatchObject({ algorithm: 'Ed25519', ...publicKeyInfo(env.config.secrets.incidentSigningKey!) });
    expect(out.fileName).toMatch(new RegExp(`^incident-${alertId}-\\d{8}T\\d{6}Z\\.json$`));
    const { rows } = await env.deps.db.execute<{ user_id: string; metadata: { sha256: string } }>(
      sql`SELECT user_id, metadata FROM audit_logs WHERE action = 'alert.incident_record_exported' AND resource_id = ${alertId}`,
    );
    expect(rows).toEqual([expect.objectContaining({ user_id: t.user('general', 'head').id, metadata: expect.objectContaining({ sha256: out.sha256 }) })]);
    // A later record carries the earlier export among its audit entries.
    const again = await head.alerts.incidentRecord.query({ alertId });
    expect(again.record.audit.some((e) => e.action === 'alert.incident_record_exported' && (e.metadata as { sha256?: string }).sha256 === out.sha256)).toBe(true);
  });

  it('the verify CLI passes the record offline, with the expected key, and against the database', async () => {
    const file = save('record.json', out.json);
    const offline = await verify(file);
    expect(offline.stdout).toContain('VERDICT: VERIFIED');
    expect(offline.stdout).toMatch(/ok +signature/);
    expect(offline.code).toBe(0);
    const withKey = await verify(file, '--public-key', out.record.signature.publicKey, '--database-url', env.databaseUrl);
    expect(withKey.stdout).toMatch(/ok +audit entries against the database/);
    expect(withKey.code, withKey.stdout + withKey.stderr).toBe(0);
  });

  it('the verify CLI checks every entry against an audit export (NDJSON, gzip), and fails one that disagrees', async () => {
    const file = save('record-export.json', out.json);
    // The export's row shape (worker/processors/export.ts): seq, id, …, hash, one JSON object a line.
    const { rows } = await env.deps.db.execute<{ seq: string; id: string; action: string; hash: string }>(
      sql`SELECT seq::text AS seq, id, action, hash FROM audit_logs WHERE hospital_id = ${out.record.alert.hospitalId} ORDER BY seq`,
    );
    const ndjson = (r: typeof rows) => `${r.map((x) => JSON.stringify({ seq: Number(x.seq), id: x.id, action: x.action, hash: x.hash })).join('\n')}\n`;
    const good = await verify(file, '--export', save('export.ndjson.gz', gzipSync(ndjson(rows))));
    expect(good.stdout).toMatch(/ok +audit entries against the export/);
    expect(good.code, good.stdout).toBe(0);
    const target = out.record.audit[0]!;
    const forged = rows.map((r) => (r.id === target.id ? { ...r, hash: 'f'.repeat(64) } : r));
    const bad = await verify(file, '--export', save('export-forged.ndjson', ndjson(forged)));
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(new RegExp(`FAIL .*entry seq ${target.seq} .*the export has it at seq ${target.seq} with another hash`));
    const missing = await verify(file, '--export', save('export-short.ndjson', ndjson(rows.filter((r) => r.id !== target.id))));
    expect(missing.stdout).toMatch(/not in the export/);
    expect(missing.code).toBe(1);
  });

  it('fails a record changed by one byte, by one event removed, or with its signature altered', async () => {
    const oneByte = out.json.replace(TITLE, TITLE.replace('bed 2', 'bed 3'));
    expect(oneByte).not.toBe(out.json);
    const a = await verify(save('byte.json', oneByte));
    expect(a.code).toBe(1);
    expect(a.stdout).toMatch(/FAIL +signature.*the signature does not match the content/);
    expect(a.stdout).toContain('VERDICT: NOT VERIFIED');

    const doc = JSON.parse(out.json) as IncidentRecord;
    const declined = doc.events.findIndex((e) => e.type === 'declined');
    doc.events.splice(declined, 1);
    const b = await verify(save('event.json', JSON.stringify(doc, null, 2)));
    expect(b.code).toBe(1);
    expect(b.stdout).toMatch(/FAIL +signature/);

    const sig = JSON.parse(out.json) as IncidentRecord;
    const v = sig.signature.value;
    sig.signature.value = (v[0] === 'A' ? 'B' : 'A') + v.slice(1);
    const c = await verify(save('signature.json', JSON.stringify(sig)));
    expect(c.code).toBe(1);
    expect(c.stdout).toMatch(/FAIL +signature/);

    const broken = await verify(save('truncated.json', out.json.slice(0, -10)));
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/not a JSON document/);
  });

  it('a record re-signed with another key after its audit entries were edited: caught by the chain, and by --public-key', async () => {
    const doc = JSON.parse(out.json) as IncidentRecord;
    const { signature: _s, ...unsigned } = doc;
    const ack = unsigned.audit.find((e) => e.action === 'alert.acknowledged')!;
    ack.userId = t.user('general', 'nurse.icu').id;
    const forger = generateKeyPairSync('ed25519').privateKey;
    const forged = signRecord(forger, unsigned);
    const file = save('forged.json', forged.json);
    const r = await verify(file);
    expect(r.stdout).toMatch(/ok +signature/);
    expect(r.stdout).toMatch(new RegExp(`FAIL .*audit seq ${ack.seq} \\(alert.acknowledged\\): its hash does not match its content`));
    expect(r.code).toBe(1);
    const k = await verify(file, '--public-key', out.record.signature.publicKey);
    expect(k.stdout).toMatch(/FAIL +signature.*not with the expected key/);
    expect(k.code).toBe(1);
  });

  it('a record from a newer server, with fields this verifier does not know, still verifies', async () => {
    const doc = JSON.parse(out.json) as IncidentRecord & Record<string, unknown>;
    const { signature: _s, ...unsigned } = doc;
    const newer = { ...unsigned, shelving: [{ minutes: 15, reason: 'Family at the bedside' }], alert: { ...unsigned.alert, shelvedUntil: null } };
    const signed = signRecord(env.config.secrets.incidentSigningKey!, newer as typeof unsigned);
    const r = await verify(save('newer.json', signed.json), '--public-key', out.record.signature.publicKey);
    expect(r.stdout).toContain('VERDICT: VERIFIED');
    expect(r.code).toBe(0);
  });

  it('a record intact but the database audit row changed since: fails against the database', async () => {
    const file = save('record-db.json', out.json);
    const target = out.record.audit.find((e) => e.action === 'alert.declined')!;
    await asAttacker(env, (c) => c.query(`UPDATE audit_logs SET metadata = metadata || '{"reason":"no reason"}'::jsonb WHERE id = $1`, [target.id]));
    const offline = await verify(file);
    expect(offline.code).toBe(0);
    const r = await verify(file, '--database-url', env.databaseUrl);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`FAIL .*audit seq ${target.seq} \\(alert.declined\\): the database row differs from the record in metadata`));
    expect(r.stdout).toMatch(/no longer matches its own hash/);
    expect(r.stdout).toContain('VERDICT: NOT VERIFIED');
  });

  it("another hospital's alert is NOT_FOUND; nurses, doctors and operators are FORBIDDEN; malformed input is BAD_REQUEST and writes nothing", async () => {
    const riverside = clientFor(server, await t.token('riverside', 'head'));
    expect((await trpcError(riverside.alerts.incidentRecord.query({ alertId }))).code).toBe('NOT_FOUND');
    expect((await trpcError(head.alerts.incidentRecord.query({ alertId: '0190f5c2-0000-7000-8000-000000000000' }))).code).toBe('NOT_FOUND');
    for (const who of ['nurse.icu', 'doctor.icu', 'operator'] as const) {
      const c = clientFor(server, await t.token('general', who));
      expect((await trpcError(c.alerts.incidentRecord.query({ alertId }))).code, who).toBe('FORBIDDEN');
    }
    const count = async () => (await env.deps.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM audit_logs WHERE action = 'alert.incident_record_exported'`)).rows[0]!.n;
    const before = await count();
    for (const bad of [{}, { alertId: '' }, { alertId: 42 }, { alertId: 'x'.repeat(101) }, null]) {
      expect((await trpcError(head.alerts.incidentRecord.query(bad as { alertId: string }))).code, JSON.stringify(bad)).toBe('BAD_REQUEST');
    }
    expect(await count()).toBe(before);
  });

  it('the CLI refuses bad usage with exit 2', async () => {
    expect((await verify(join(dir, 'missing.json'))).code).toBe(2);
    expect((await runScript('scripts/incident-verify.ts', [], {})).code).toBe(2);
    expect((await verify(save('k.json', out.json), '--public-key', 'not-a-key')).code).toBe(2);
  });
});

describe('INCIDENT_SIGNING_KEY', () => {
  const prod = {
    CLARION_ENV: 'production',
    DATABASE_URL: 'postgres://clarion@db:5432/clarion',
    REDIS_URL: 'redis://cache:6379/2',
    TOTP_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    TOKEN_SIGNING_SECRET: 'x'.repeat(40),
    AUDIT_ANCHOR_KEY: Buffer.alloc(32, 3).toString('base64'),
  };
  const problems = (e: Record<string, string>) => {
    try {
      loadConfig(e);
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
  };

  it('accepts a 32-byte seed or PKCS8 DER as the same key; refuses the development key in production and anything not Ed25519', () => {
    const seed = Buffer.alloc(32, 5).toString('base64');
    const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, 5)]).toString('base64');
    const a = loadConfig({ ...prod, INCIDENT_SIGNING_KEY: seed }).secrets.incidentSigningKey!;
    const b = loadConfig({ ...prod, INCIDENT_SIGNING_KEY: pkcs8 }).secrets.incidentSigningKey!;
    expect(publicKeyInfo(a)).toEqual(publicKeyInfo(b));
    expect(problems({ ...prod, INCIDENT_SIGNING_KEY: DEVELOPMENT_INCIDENT_SIGNING_KEY })).toEqual(['INCIDENT_SIGNING_KEY: the development key is refused in production']);
    expect(problems({ ...prod, INCIDENT_SIGNING_KEY: 'c2hvcnQ=' })[0]).toMatch(/must be an Ed25519 key/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
    expect(problems({ ...prod, INCIDENT_SIGNING_KEY: rsa })[0]).toMatch(/must be an Ed25519 key/);
    // Unset in production: the server starts, records are refused (PRECONDITION_FAILED) until it is set.
    expect(loadConfig(prod).secrets.incidentSigningKey).toBeNull();
    // Development derives the same key every time (records signed on a laptop verify on another).
    expect(publicKeyInfo(loadConfig({}).secrets.incidentSigningKey!)).toEqual(publicKeyInfo(loadConfig({}).secrets.incidentSigningKey!));
  });
});
