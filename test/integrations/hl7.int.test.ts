import { connect } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Hl7Listener, startHl7Listener } from '../../server/integrations/hl7/listener.js';
import { CR, FS, frame, VT } from '../../server/integrations/hl7/mllp.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { type Hl7Peer, hl7Peer, oruR40 } from '../support/hl7-peer.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';

// Integrations issue, part 3: IHE PCD ACM Report Alarm (ORU^R40) over MLLP, sent by node-hl7-client
// as the real peer; each message answered AA / AE / AR, and nothing written for a refused one.
let env: TestEnv;
let server: TestServer;
let t: Tenants;
let listener: Hl7Listener;
let peer: Hl7Peer;

beforeAll(async () => {
  env = await createTestEnv();
  server = await startTestServer(env);
  t = await seedTenants(env);
  listener = await startHl7Listener(env.deps, { port: 0, host: '127.0.0.1' });
  const admin = clientFor(server, await t.token('general', 'admin'));
  const d = t.hospital.general.departments;
  await admin.integrations.createHl7Source.mutate({ name: 'ICU monitors', sendingFacility: 'ICU_GW', departments: { ICU: d.ICU, ER: d.ER } });
  peer = hl7Peer(listener.port);
});
afterAll(async () => {
  await peer?.close();
  await listener?.close();
});

const alertsOf = async (externalId: string) =>
  (await env.deps.db.execute<{ id: string; hospital_id: string; department_id: string; room_number: string; priority: string; status: string; source: string; title: string; repeat_count: number; resolved_by: string | null }>(sql`SELECT * FROM alerts WHERE external_id = ${externalId} ORDER BY created_at`)).rows;
const alertCount = async () => Number((await env.deps.db.execute<{ n: string }>(sql`SELECT count(*) AS n FROM alerts`)).rows[0]?.n);

/** A raw MLLP socket for what a library will not send: garbage, half frames, oversize frames. */
function rawSend(bytes: Buffer, { end = false, port = listener.port } = {}): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (c) => (got += c.toString('utf8')));
    s.on('error', () => resolve(got));
    s.on('close', () => resolve(got));
    s.write(bytes, () => (end ? s.end() : undefined));
  });
}

describe('HL7 v2 ORU^R40 over MLLP', () => {
  it('an alarm becomes an alert of the hospital (source, department, room, priority); a repeat folds into it; a cleared alarm resolves it', async () => {
    const ack = await peer.send(oruR40({ alarmId: 'ALM-A', text: 'SPO2 LOW 85', flags: 'L~PH~SP', room: '101', bed: '2' }));
    expect(ack.code).toBe('AA');
    const [a] = await alertsOf('ALM-A');
    expect(a).toMatchObject({ hospital_id: t.hospital.general.id, department_id: t.hospital.general.departments.ICU, room_number: '101-2', priority: 'high', status: 'active', source: 'hl7:ICU monitors', title: 'SPO2 LOW 85' });

    expect((await peer.send(oruR40({ alarmId: 'ALM-A', text: 'SPO2 LOW 84', phase: 'continue' }))).code).toBe('AA');
    const again = await alertsOf('ALM-A');
    expect(again).toHaveLength(1);
    expect(again[0]?.repeat_count).toBeGreaterThan(a?.repeat_count ?? 0);

    expect((await peer.send(oruR40({ alarmId: 'ALM-A', state: 'inactive', phase: 'end' }))).code).toBe('AA');
    const [done] = await alertsOf('ALM-A');
    expect(done).toMatchObject({ status: 'resolved', resolved_by: null });
    const { rows: ev } = await env.deps.db.execute<{ type: string }>(sql`SELECT type FROM alert_events WHERE alert_id = ${done?.id} ORDER BY id`);
    expect(ev.map((e) => e.type)).toContain('resolved');
    const src = (await env.deps.db.execute<{ last_message_at: Date | null }>(sql`SELECT last_message_at FROM hl7_sources WHERE sending_facility = 'ICU_GW'`)).rows[0];
    expect(src?.last_message_at).not.toBeNull();
  });

  it('maps priorities: HH/LL panic → critical, PM → medium, PL → low, no flag → medium; ER point of care → ER', async () => {
    const cases = [
      ['LL~PH', 'critical'],
      ['HH', 'critical'],
      ['PM', 'medium'],
      ['PL~ST', 'low'],
      ['', 'medium'],
    ] as const;
    for (const [flags, priority] of cases) {
      const id = `ALM-P-${flags.replace(/\W/g, '') || 'none'}`;
      expect((await peer.send(oruR40({ alarmId: id, flags, pointOfCare: 'ER', room: '7', bed: '' }))).code).toBe('AA');
      expect((await alertsOf(id))[0], flags).toMatchObject({ priority, department_id: t.hospital.general.departments.ER, room_number: '7' });
    }
  });

  it('AE with the reason for an unknown facility or an unmapped point of care; AR for a malformed message; nothing written', async () => {
    const before = await alertCount();
    const unknown = await peer.send(oruR40({ facility: 'NOBODY', alarmId: 'ALM-X1' }));
    expect(unknown).toMatchObject({ code: 'AE' });
    expect(unknown.text).toMatch(/Unknown sending facility/);
    const unmapped = await peer.send(oruR40({ pointOfCare: 'NICU', alarmId: 'ALM-X2' }));
    expect(unmapped.code).toBe('AE');
    expect(unmapped.text).toMatch(/NICU is not mapped/);
    expect((await peer.send(oruR40({ pointOfCare: 'constructor', alarmId: 'ALM-X5' }))).code).toBe('AE');
    expect((await peer.send(oruR40({ type: 'ADT^A01^ADT_A01', alarmId: 'ALM-X3' }))).code).toBe('AR');
    expect((await peer.send(oruR40({ alarmId: '', text: 'X' }))).code).toBe('AR');
    expect((await peer.send(oruR40({ pointOfCare: '', alarmId: 'ALM-X4' }))).code).toBe('AR');
    expect(await alertCount()).toBe(before);
  });

  it('a message over 1 MB is answered AR and the connection closed; garbage and a partial frame do not stop a good message on a new connection', async () => {
    const before = await alertCount();
    const huge = oruR40({ alarmId: 'ALM-BIG', text: 'x'.repeat(1_100_000) });
    const big = await rawSend(frame(huge));
    expect(big).toContain('MSA|AR|');
    expect(await rawSend(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n\x00\xff\x1c\r'), { end: true })).toBe('');
    expect(await rawSend(Buffer.concat([Buffer.from([VT]), Buffer.from('MSH|^~\\&|half a')]), { end: true })).toBe('');
    const notHl7 = await rawSend(Buffer.from([VT, 0x41, 0x42, FS, CR]), { end: true });
    expect(notHl7).toContain('MSA|AR|');
    expect(await alertCount()).toBe(before);
    const fresh = hl7Peer(listener.port);
    try {
      expect((await fresh.send(oruR40({ alarmId: 'ALM-AFTER' }))).code).toBe('AA');
    } finally {
      await fresh.close();
    }
  });

  it('closes a silent connection (slowloris) after its idle timeout', async () => {
    const short = await startHl7Listener(env.deps, { port: 0, host: '127.0.0.1', idleTimeoutMs: 500 });
    try {
      const started = Date.now();
      await rawSend(Buffer.from([VT, 0x4d, 0x53, 0x48]), { port: short.port });
      expect(Date.now() - started).toBeGreaterThanOrEqual(450);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await short.close();
    }
  });

  it('refuses connections over its cap and still serves the ones it holds', async () => {
    const small = await startHl7Listener(env.deps, { port: 0, host: '127.0.0.1', maxConnections: 2 });
    const held = [connect(small.port, '127.0.0.1'), connect(small.port, '127.0.0.1')];
    try {
      await Promise.all(held.map((s) => new Promise((r) => s.once('connect', r))));
      await new Promise((r) => setTimeout(r, 50));
      const started = Date.now();
      expect(await rawSend(frame(oruR40({ alarmId: 'ALM-CAP' })), { port: small.port })).toBe('');
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(await alertsOf('ALM-CAP')).toEqual([]);
      const answer = new Promise<string>((r) => held[0]?.once('data', (d) => r(d.toString())));
      held[0]?.write(frame(oruR40({ alarmId: 'ALM-HELD' })));
      expect(await answer).toContain('MSA|AA|');
    } finally {
      for (const s of held) s.destroy();
      await small.close();
    }
  });

  it('createHl7Source refuses another hospital\'s department (NOT_FOUND), a taken facility (CONFLICT), bad input; lists and deactivates (then AE)', async () => {
    const admin = clientFor(server, await t.token('general', 'admin'));
    const other = t.hospital.riverside.departments.ICU;
    await expect(admin.integrations.createHl7Source.mutate({ name: 'Sneaky', sendingFacility: 'SNEAKY', departments: { ICU: other } })).rejects.toMatchObject({ data: { code: 'NOT_FOUND' } });
    await expect(admin.integrations.createHl7Source.mutate({ name: 'Dup', sendingFacility: 'ICU_GW', departments: { ICU: t.hospital.general.departments.ICU } })).rejects.toMatchObject({ data: { code: 'CONFLICT' } });
    const badInputs: { name: string; sendingFacility: string; departments: Record<string, string> }[] = [
      { name: 'x', sendingFacility: 'A|B', departments: { ICU: t.hospital.general.departments.ICU } },
      { name: 'x', sendingFacility: 'AB', departments: {} },
    ];
    for (const bad of badInputs) {
      await expect(admin.integrations.createHl7Source.mutate(bad)).rejects.toMatchObject({ data: { code: 'BAD_REQUEST' } });
    }
    const nurse = clientFor(server, await t.token('general', 'nurse.icu'));
    await expect(nurse.integrations.listHl7Sources.query()).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } });
    const nc = await admin.integrations.createHl7Source.mutate({ name: 'Nurse call', sendingFacility: 'NURSECALL', departments: { CARD: t.hospital.general.departments.CARD }, heartbeatSeconds: 300 });
    expect((await admin.integrations.listHl7Sources.query()).sources.map((s) => s.name)).toEqual(['ICU monitors', 'Nurse call']);
    expect((await peer.send(oruR40({ facility: 'NURSECALL', pointOfCare: 'CARD', alarmId: 'NC-1', text: 'Patient call' }))).code).toBe('AA');
    await admin.integrations.deactivateHl7Source.mutate({ sourceId: nc.id });
    const ae = await peer.send(oruR40({ facility: 'NURSECALL', pointOfCare: 'CARD', alarmId: 'NC-2' }));
    expect(ae).toMatchObject({ code: 'AE' });
    expect(ae.text).toMatch(/inactive/);
    const riversideAdmin = clientFor(server, await t.token('riverside', 'admin'));
    await expect(riversideAdmin.integrations.deactivateHl7Source.mutate({ sourceId: nc.id })).rejects.toMatchObject({ data: { code: 'NOT_FOUND' } });
    const { rows } = await env.deps.db.execute<{ action: string }>(sql`SELECT action FROM audit_logs WHERE resource_id = ${nc.id} ORDER BY seq`);
    expect(rows.map((r) => r.action)).toEqual(['hl7_source.created', 'hl7_source.deactivated']);
  });
});
