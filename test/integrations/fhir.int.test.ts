import { sql } from 'drizzle-orm';
import type { FhirResource } from 'fhir-kit-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../realtime/helpers.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { expectOutcome, expectValidR4, fhirClient, fhirFetch, r4Request, r5Request, refusal, responseOf } from './fhir-helpers.js';
import { writes } from './rest-helpers.js';

// Integrations issue, part 4: FHIR (IHE mACM) through a real FHIR client (fhir-kit-client) against the real server.
// Refusals (tenant sweep, keys, scopes, malformed) are in fhir-access.int.test.ts, the fuzz in fhir-fuzz.int.test.ts.
let env: TestEnv;
let server: TestServer;
let t: Tenants;
let keys: Record<'rw' | 'ro', string>;
let er: string;
let icu: string;
let admin: ReturnType<typeof clientFor>;
// biome-ignore lint/suspicious/noExplicitAny: FHIR resources as the client returns them
type Any = any;

const alertRow = async (id: string) =>
  (await env.deps.db.execute<{ source: string; external_id: string | null; priority: string; department_id: string; title: string; description: string | null; repeat_count: number }>(
    sql`SELECT source, external_id, priority, department_id, title, description, repeat_count FROM alerts WHERE id = ${id}`,
  )).rows[0];
const create = (key: string, body: object) => fhirClient(server, key).create({ resourceType: 'CommunicationRequest', body: body as FhirResource }) as Promise<Any>;

beforeAll(async () => {
  env = await createTestEnv();
  server = await startTestServer(env);
  t = await seedTenants(env);
  er = t.hospital.general.departments.ER;
  icu = t.hospital.general.departments.ICU;
  admin = clientFor(server, await t.token('general', 'admin'));
  const key = async (c: typeof admin, name: string, scopes: ('alerts:write' | 'alerts:read')[]) => (await c.integrations.createKey.mutate({ name, scopes })).key;
  keys = { rw: await key(admin, 'FHIR EHR', ['alerts:write', 'alerts:read']), ro: await key(admin, 'FHIR reader', ['alerts:read']) };
});

describe('FHIR (IHE mACM)', () => {
  it('GET /fhir/metadata: a valid R4 CapabilityStatement, without a key', async () => {
    const cs: Any = await fhirClient(server).capabilityStatement();
    expect(cs).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1', kind: 'instance', format: expect.arrayContaining(['application/fhir+json']) });
    expect(cs.rest[0].resource.map((r: Any) => r.type)).toEqual(['CommunicationRequest', 'Communication']);
    expectValidR4(cs);
  });

  it('R4: creates an alert (201, Location), reads it back; a retried POST of the same identifier folds into it (200); the key is the audited actor', async () => {
    const body = r4Request({ text: 'Bed 12 SpO2 85%', recipient: `Location/${er}`, identifier: 'ALM-1', more: { payload: [{ contentString: 'Bed 12 SpO2 85%' }, { contentString: 'Patient Doe, probe checked' }] } });
    const created = await create(keys.rw, body);
    expect(responseOf(created).status).toBe(201);
    expect(responseOf(created).headers.get('location')).toBe(`/fhir/CommunicationRequest/${created.id}`);
    expect(responseOf(created).headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    expect(created).toMatchObject({
      resourceType: 'CommunicationRequest',
      status: 'active',
      priority: 'asap',
      identifier: [{ system: 'urn:oid:1.2.3.4.5', value: 'ALM-1' }],
      payload: [{ contentString: 'Bed 12 SpO2 85%' }, { contentString: 'Patient Doe, probe checked' }],
      recipient: [{ reference: `Location/${er}`, display: 'Emergency' }],
      category: [{ text: 'alert' }],
    });
    expectValidR4(created);
    expect(await alertRow(created.id)).toMatchObject({ source: 'fhir', external_id: 'urn:oid:1.2.3.4.5|ALM-1', priority: 'high', department_id: er, title: 'Bed 12 SpO2 85%', description: 'Patient Doe, probe checked' });
    const read: Any = await fhirClient(server, keys.ro).read({ resourceType: 'CommunicationRequest', id: created.id });
    expect(read).toEqual(created);
    const again = await create(keys.rw, body);
    expect(responseOf(again).status).toBe(200);
    expect(again.id).toBe(created.id);
    expect((await alertRow(created.id))?.repeat_count).toBe(1);
    const { rows } = await env.deps.db.execute<{ user_id: string | null; user_agent: string }>(sql`SELECT user_id, user_agent FROM audit_logs WHERE resource_id = ${created.id} AND action = 'alert.created'`);
    expect(rows).toEqual([{ user_id: null, user_agent: 'api:FHIR EHR' }]);
    // mACM's subject as a contained Patient is valid R4 and accepted (Clarion keeps no patient data from it).
    const patient = { subject: { reference: '#pat' }, contained: [{ resourceType: 'Patient', id: 'pat', name: [{ family: 'Doe', given: ['Jane'] }] }] };
    expect(responseOf(await create(keys.rw, r4Request({ text: 'Bed 14 apnoea', recipient: `Location/${er}`, more: patient }))).status).toBe(201);
    expectOutcome(await refusal(create(keys.rw, r4Request({ text: 'Bad patient', recipient: `Location/${er}`, more: { contained: [{ resourceType: 'Patient', id: 'p', gender: 7 }] } }))), 400, 'structure');
  });

  it('R5 shape (intent, payload.contentCodeableConcept.text, informationProvider, R5 profile or only R5 fields) is accepted and answered in R4', async () => {
    const nurse = t.user('general', 'nurse.icu');
    const created = await create(keys.rw, r5Request({ text: 'Rapid response bed 304', recipient: `Practitioner/${nurse.id}` }));
    expect(responseOf(created).status).toBe(201);
    expect(created).toMatchObject({ priority: 'stat', payload: [{ contentString: 'Rapid response bed 304' }], recipient: [{ reference: `Location/${icu}` }] });
    expect(created.intent).toBeUndefined();
    expect(await alertRow(created.id)).toMatchObject({ priority: 'critical', department_id: icu, title: 'Rapid response bed 304', source: 'fhir', external_id: null });
    // No profile: recognised by its R5-only fields.
    const { meta: _m, ...bare } = r5Request({ text: 'Pump occlusion', recipient: `Location/${icu}`, priority: 'urgent', identifier: 'PUMP-9' });
    const second = await create(keys.rw, bare);
    expect(await alertRow(second.id)).toMatchObject({ priority: 'medium', title: 'Pump occlusion', external_id: 'PUMP-9' });
    expect(second.identifier).toEqual([{ value: 'PUMP-9' }]);
    // An R5 payload without text is pointed at in R5's own terms.
    expectOutcome(await refusal(create(keys.rw, r5Request({ text: '', recipient: `Location/${icu}` }))), 400, 'invalid', 'CommunicationRequest.payload[0].contentCodeableConcept.text');
    // fhirVersion=5.0 on the content type says R5 by itself.
    const typed = await fhirFetch(server, 'POST', '/fhir/CommunicationRequest', {
      key: keys.rw,
      raw: JSON.stringify(r4Request({ text: 'x', recipient: `Location/${icu}`, more: { payload: [] } })),
      headers: { 'content-type': 'application/fhir+json; fhirVersion=5.0' },
    });
    expectOutcome(typed, 400, 'invalid', 'CommunicationRequest.payload[0].contentCodeableConcept.text');
  });

  it('priority routine|urgent|asap|stat ↔ low|medium|high|critical, both ways; no priority is routine', async () => {
    for (const [fhir, clarion] of [['routine', 'low'], ['urgent', 'medium'], ['asap', 'high'], ['stat', 'critical']] as const) {
      const created = await create(keys.rw, r4Request({ text: `Priority ${fhir}`, recipient: `Location/${er}`, priority: fhir }));
      expect((await alertRow(created.id))?.priority).toBe(clarion);
      expect((await fhirClient(server, keys.ro).read({ resourceType: 'CommunicationRequest', id: created.id }) as Any).priority).toBe(fhir);
    }
    const { priority: _p, ...none } = r4Request({ text: 'No priority given', recipient: `Location/${er}` });
    expect((await alertRow((await create(keys.rw, none)).id))?.priority).toBe('low');
    expectOutcome(await refusal(create(keys.rw, r4Request({ text: 'x', recipient: `Location/${er}`, priority: 'whenever' }))), 400, 'invalid', 'CommunicationRequest.priority');
  });

  it('recipients: Practitioner / PractitionerRole (the user’s department), Location by id or by department code; mixed departments, other types, unknown ids and a practitioner without a department are refused', async () => {
    const dept = async (recipient: string | object) => (await alertRow((await create(keys.rw, r4Request({ text: `To ${JSON.stringify(recipient)}`, recipient }))).id))?.department_id;
    expect(await dept(`PractitionerRole/${t.user('general', 'doctor.icu').id}`)).toBe(icu);
    expect(await dept(`Practitioner/${t.user('general', 'nurse.er').id}`)).toBe(er);
    expect(await dept({ type: 'Location', identifier: { value: 'CARD' } })).toBe(t.hospital.general.departments.CARD);
    const before = await writes(env);
    const mixed = r4Request({ text: 'Mixed', recipient: `Location/${er}`, more: { recipient: [{ reference: `Location/${er}` }, { reference: `Practitioner/${t.user('general', 'nurse.icu').id}` }] } });
    expectOutcome(await refusal(create(keys.rw, mixed)), 400, 'invalid', 'CommunicationRequest.recipient[1]');
    expectOutcome(await refusal(create(keys.rw, r4Request({ text: 'Patient', recipient: 'Patient/123' }))), 400, 'invalid', 'CommunicationRequest.recipient[0]');
    expectOutcome(await refusal(create(keys.rw, r4Request({ text: 'Nowhere', recipient: 'Location/no-such-ward' }))), 404, 'not-found', 'CommunicationRequest.recipient[0]');
    expectOutcome(await refusal(create(keys.rw, r4Request({ text: 'No code', recipient: { type: 'Location', identifier: { value: 'NOPE' } } }))), 404, 'not-found');
    expectOutcome(await refusal(create(keys.rw, r4Request({ text: 'Admin', recipient: `Practitioner/${t.user('general', 'admin').id}` }))), 400, 'invalid', 'CommunicationRequest.recipient[0]');
    const { recipient: _r, ...nobody } = r4Request({ text: 'Nobody', recipient: 'x' });
    expectOutcome(await refusal(create(keys.rw, nobody)), 400, 'invalid', 'CommunicationRequest.recipient');
    expect(await writes(env)).toBe(before);
  });

  it('Communication?based-on=: one per page, attempt and receipt — delivered, read, declined with its reason, acknowledged', async () => {
    const doctor = t.user('general', 'doctor.er');
    const nurse = t.user('general', 'nurse.er');
    await admin.hospitals.updateSettings.mutate({ escalation: { high: { targets: [[{ kind: 'user', userId: doctor.id }, { kind: 'user', userId: nurse.id }]], levelTimeoutsSeconds: [300, 300] } } });
    // A verified phone (fixture, as the notification tests set one up): the built-in high rules text it after push.
    await env.deps.db.execute(sql`INSERT INTO contacts (hospital_id, user_id, channel, address, verified_at) VALUES (${doctor.hospitalId}, ${doctor.id}, 'sms', '+15550001234', now())`);
    const created = await create(keys.rw, r4Request({ text: 'Bed E4 arrhythmia', recipient: `Location/${er}`, priority: 'asap' }));
    const pages = async () => (await env.deps.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM alert_pages WHERE alert_id = ${created.id}`)).rows[0]?.n ?? 0;
    await eventually(async () => (await pages()) === 2, 5_000, 'two pages');
    const doc = clientFor(server, await t.token('general', 'doctor.er'));
    const nur = clientFor(server, await t.token('general', 'nurse.er'));
    await doc.alerts.reportReceipts.mutate({ receipts: [{ alertId: created.id, kind: 'seen' }] });
    await nur.alerts.decline.mutate({ alertId: created.id, reason: 'With another critical patient' });
    await doc.alerts.acknowledge.mutate({ alertId: created.id });

    const bundle: Any = await fhirClient(server, keys.ro).search({ resourceType: 'Communication', searchParams: { 'based-on': `CommunicationRequest/${created.id}` } });
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
    expectValidR4(bundle);
    const all: Any[] = bundle.entry.map((e: Any) => e.resource);
    expect(bundle.total).toBe(all.length);
    expect(all.every((c) => c.resourceType === 'Communication' && c.basedOn[0].reference === `CommunicationRequest/${created.id}`)).toBe(true);
    const kind = (k: string) => all.filter((c) => c.category[0].coding[0].code === k);
    const pageOf = (userId: string) => kind('page').find((c) => c.recipient[0].reference === `Practitioner/${userId}`);
    expect(pageOf(doctor.id)).toMatchObject({ status: 'completed', sent: expect.any(String), recipient: [{ display: 'Dr. Emma ER' }], priority: 'asap' });
    expect(pageOf(nurse.id)?.note[0].text).toBe('Escalation level 0: named');
    const docPage = `Communication/${pageOf(doctor.id).id}`;
    expect(kind('delivered')).toContainEqual(expect.objectContaining({ sender: expect.objectContaining({ reference: `Practitioner/${doctor.id}` }), inResponseTo: [{ reference: docPage }] }));
    expect(kind('read')).toContainEqual(expect.objectContaining({ sender: expect.objectContaining({ reference: `Practitioner/${doctor.id}` }), status: 'completed' }));
    expect(kind('declined')).toEqual([
      expect.objectContaining({ sender: { reference: `Practitioner/${nurse.id}`, display: 'Noah ER Nurse' }, statusReason: { text: 'With another critical patient' }, payload: [{ contentString: 'With another critical patient' }] }),
    ]);
    expect(kind('acknowledged')).toEqual([expect.objectContaining({ sender: { reference: `Practitioner/${doctor.id}`, display: 'Dr. Emma ER' }, inResponseTo: [{ reference: docPage }] })]);
    const attempts = (await env.deps.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM page_attempts WHERE alert_id = ${created.id}`)).rows[0]?.n;
    expect(attempts).toBeGreaterThan(0);
    expect(kind('attempt')).toHaveLength(attempts ?? 0);
    expect(kind('attempt')[0]).toMatchObject({ partOf: [{ reference: docPage }], medium: [{ text: 'sms' }], recipient: [{ reference: `Practitioner/${doctor.id}` }], status: 'preparation' });
    // The request itself: still active (acknowledged is not done), Clarion's status as the reason.
    const read: Any = await fhirClient(server, keys.ro).read({ resourceType: 'CommunicationRequest', id: created.id });
    expect(read).toMatchObject({ status: 'active', statusReason: { text: 'acknowledged' } });
    // A bare id works as the reference too; an alert nothing reached has an empty bundle.
    expect(((await fhirClient(server, keys.ro).search({ resourceType: 'Communication', searchParams: { 'based-on': created.id } })) as Any).total).toBe(all.length);
    await admin.hospitals.updateSettings.mutate({ escalation: { high: { targets: null, levelTimeoutsSeconds: [300, 300] } } });
    const quiet = await create(keys.rw, r4Request({ text: 'Nobody paged', recipient: `Location/${er}`, priority: 'routine' }));
    expect(await fhirClient(server, keys.ro).search({ resourceType: 'Communication', searchParams: { 'based-on': `CommunicationRequest/${quiet.id}` } })).toMatchObject({ total: 0 });
  });
});
