import { sql } from 'drizzle-orm';
import type { FhirResource } from 'fhir-kit-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { restLimiter } from '../../server/rest/rate-limit.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { expectOutcome, fhirClient, fhirFetch, r4Request, refusal, responseOf } from './fhir-helpers.js';
import { writes } from './rest-helpers.js';

// FHIR refusals: another hospital's key (tenant sweep), keys and scopes, the shared rate limit,
// Idempotency-Key, and malformed requests — each an OperationOutcome, none of them writing anything.
let env: TestEnv;
let server: TestServer;
let t: Tenants;
let admin: ReturnType<typeof clientFor>;
let keys: Record<'rw' | 'ro' | 'wo' | 'theirs', string>;
let er: string;
// biome-ignore lint/suspicious/noExplicitAny: FHIR resources as the client returns them
type Any = any;

const create = (key: string, body: object, headers?: Record<string, string>) =>
  fhirClient(server, key).create({ resourceType: 'CommunicationRequest', body: body as FhirResource, ...(headers ? { options: { headers } } : {}) }) as Promise<Any>;
const post = (key: string | undefined, raw: string, contentType = 'application/fhir+json') => fhirFetch(server, 'POST', '/fhir/CommunicationRequest', { key, raw, headers: { 'content-type': contentType } });

beforeAll(async () => {
  env = await createTestEnv();
  server = await startTestServer(env);
  t = await seedTenants(env);
  er = t.hospital.general.departments.ER;
  admin = clientFor(server, await t.token('general', 'admin'));
  const key = async (c: typeof admin, name: string, scopes: ('alerts:write' | 'alerts:read')[]) => (await c.integrations.createKey.mutate({ name, scopes })).key;
  const theirs = clientFor(server, await t.token('riverside', 'admin'));
  keys = {
    rw: await key(admin, 'FHIR EHR', ['alerts:write', 'alerts:read']),
    ro: await key(admin, 'FHIR reader', ['alerts:read']),
    wo: await key(admin, 'FHIR writer', ['alerts:write']),
    theirs: await key(theirs, 'Riverside EHR', ['alerts:write', 'alerts:read']),
  };
});

describe('FHIR refusals', () => {
  it('tenant sweep: another hospital’s key gets 404 on every route for our ids (and we for theirs), and nothing is written', async () => {
    const ours = await create(keys.rw, r4Request({ text: 'General only', recipient: `Location/${er}` }));
    const theirs = await create(keys.theirs, r4Request({ text: 'Riverside only', recipient: `Location/${t.hospital.riverside.departments.ER}` }));
    const before = await writes(env);
    const other = fhirClient(server, keys.theirs);
    expectOutcome(await refusal(other.read({ resourceType: 'CommunicationRequest', id: ours.id })), 404, 'not-found');
    expectOutcome(await refusal(other.search({ resourceType: 'Communication', searchParams: { 'based-on': `CommunicationRequest/${ours.id}` } })), 404, 'not-found');
    for (const recipient of [`Location/${er}`, `Practitioner/${t.user('general', 'nurse.er').id}`, `PractitionerRole/${t.user('general', 'doctor.icu').id}`]) {
      expectOutcome(await refusal(create(keys.theirs, r4Request({ text: 'Into General', recipient }))), 404, 'not-found', 'CommunicationRequest.recipient[0]');
    }
    const mine = fhirClient(server, keys.rw);
    expectOutcome(await refusal(mine.read({ resourceType: 'CommunicationRequest', id: theirs.id })), 404, 'not-found');
    expectOutcome(await refusal(mine.search({ resourceType: 'Communication', searchParams: { 'based-on': theirs.id } })), 404, 'not-found');
    // Missing ids look exactly the same.
    expectOutcome(await refusal(mine.read({ resourceType: 'CommunicationRequest', id: '01a24d27-0000-7000-8000-000000000000' })), 404, 'not-found');
    expect(await writes(env)).toBe(before);
  });

  it('401 without a valid key (missing, unknown, revoked), 403 without the scope, 429 past the REST budget; nothing written', async () => {
    const body = r4Request({ text: 'Unauthorised', recipient: `Location/${er}` });
    const before = await writes(env);
    for (const key of [undefined, 'clk_nope', 'not-a-key']) {
      const r = await post(key, JSON.stringify(body));
      expectOutcome(r, 401, 'login');
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expectOutcome(await refusal(create(keys.ro, body)), 403, 'forbidden');
    expectOutcome(await refusal(fhirClient(server, keys.wo).read({ resourceType: 'CommunicationRequest', id: 'x' })), 403, 'forbidden');
    expectOutcome(await refusal(fhirClient(server, keys.wo).search({ resourceType: 'Communication', searchParams: { 'based-on': 'x' } })), 403, 'forbidden');
    const doomed = await admin.integrations.createKey.mutate({ name: 'Doomed FHIR', scopes: ['alerts:write', 'alerts:read'] });
    expect(responseOf(await create(doomed.key, r4Request({ text: 'Before revocation', recipient: `Location/${er}` }))).status).toBe(201);
    await admin.integrations.revokeKey.mutate({ keyId: doomed.id });
    await new Promise((r) => setTimeout(r, 1_050));
    const mid = await writes(env);
    expectOutcome(await refusal(create(doomed.key, body)), 401, 'login');
    expectOutcome(await refusal(fhirClient(server, doomed.key).read({ resourceType: 'CommunicationRequest', id: 'x' })), 401, 'login');
    // One budget per key across REST and FHIR: a key spent on REST is refused here too.
    const busy = await admin.integrations.createKey.mutate({ name: 'Busy FHIR', scopes: ['alerts:write', 'alerts:read'] });
    await restLimiter(env.deps).penalty(busy.id, 600);
    const limited = await post(busy.key, JSON.stringify(body));
    expectOutcome(limited, 429, 'throttled');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await writes(env)).toBe(mid);
    expect(before).not.toBe(mid); // the one accepted raise before the revocation
  });

  it('Idempotency-Key: a replay gets the first answer and no second alert; the same key with another body is 422', async () => {
    const headers = { 'idempotency-key': 'ehr-order-77' };
    const body = r4Request({ text: 'Replay me', recipient: `Location/${er}` });
    const first = await create(keys.rw, body, headers);
    const again = await create(keys.rw, body, headers);
    expect(responseOf(again).status).toBe(201);
    expect(again).toEqual(first);
    expectOutcome(await refusal(create(keys.rw, r4Request({ text: 'Something else', recipient: `Location/${er}` }), headers)), 422, 'business-rule');
    const { rows } = await env.deps.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM alerts WHERE title IN ('Replay me', 'Something else')`);
    expect(rows[0]?.n).toBe(1);
    expectOutcome(await refusal(create(keys.rw, body, { 'idempotency-key': 'x'.repeat(300) })), 400, 'invalid');
  });

  it('malformed: 415 wrong content type, 400 broken JSON / wrong resource / structure errors with their expression / not active; 404 unknown route, 405 wrong method; nothing written', async () => {
    const before = await writes(env);
    const good = r4Request({ text: 'Well formed', recipient: `Location/${er}` });
    expectOutcome(await post(keys.rw, JSON.stringify(good), 'text/plain'), 415, 'not-supported');
    expectOutcome(await post(keys.rw, JSON.stringify(good), 'application/xml'), 415, 'not-supported');
    expectOutcome(await post(keys.rw, '{"resourceType": "CommunicationRequest",'), 400, 'invalid');
    expectOutcome(await post(keys.rw, '[1,2]'), 400, 'invalid');
    expectOutcome(await post(keys.rw, JSON.stringify({ ...good, resourceType: 'Patient' })), 400, 'invalid', 'CommunicationRequest.resourceType');
    expectOutcome(await post(keys.rw, JSON.stringify({ ...good, colour: 'red' })), 400, 'structure', 'CommunicationRequest.colour');
    expectOutcome(await post(keys.rw, JSON.stringify({ ...good, priority: 7 })), 400, 'structure', 'CommunicationRequest.priority');
    expectOutcome(await post(keys.rw, JSON.stringify({ ...good, status: 'draft' })), 400, 'invalid', 'CommunicationRequest.status');
    expectOutcome(await post(keys.rw, JSON.stringify({ ...good, payload: [{ contentString: 'x'.repeat(201) }] })), 400, 'invalid', 'CommunicationRequest.payload[0].contentString');
    expectOutcome(await post(keys.rw, JSON.stringify({ ...good, payload: [] })), 400, undefined, 'CommunicationRequest.payload[0].contentString');
    expectOutcome(await post(keys.rw, JSON.stringify({ ...good, category: [{ coding: [{ code: 'no spaces!' }] }] })), 400, 'invalid', 'CommunicationRequest.category[0].coding[0].code');
    expectOutcome(await post(keys.rw, JSON.stringify({ ...good, identifier: 'ALM-1' })), 400, 'structure');
    // Over 1 MB: a clean 413 (the body is read off first, so the client sees the answer, not a reset); so is a refusal before the body is read.
    expectOutcome(await post(keys.rw, 'x'.repeat(3_000_000)), 413, 'too-long');
    expectOutcome(await post(undefined, 'x'.repeat(3_000_000)), 401, 'login');
    expectOutcome(await fhirFetch(server, 'GET', '/fhir/Patient/1', { key: keys.rw }), 404, 'not-supported');
    expectOutcome(await fhirFetch(server, 'DELETE', '/fhir/CommunicationRequest/1', { key: keys.rw }), 405, 'not-supported');
    expectOutcome(await fhirFetch(server, 'GET', '/fhir/Communication', { key: keys.rw }), 400, 'invalid');
    expectOutcome(await fhirFetch(server, 'GET', '/fhir/Communication?based-on=Practitioner/abc', { key: keys.rw }), 400, 'invalid');
    expectOutcome(await fhirFetch(server, 'GET', '/fhir/CommunicationRequest/%E0%A4%A', { key: keys.rw }), 400, 'invalid');
    expect(await writes(env)).toBe(before);
  });
});
