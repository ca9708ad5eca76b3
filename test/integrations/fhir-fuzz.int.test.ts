import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { expectValidR4, fhirFetch, r4Request, r5Request } from './fhir-helpers.js';
import { writes } from './rest-helpers.js';

// Random bodies, paths, methods and headers against the FHIR routes: never a 5xx, every refusal an
// OperationOutcome that writes nothing, every answer valid R4.
let env: TestEnv;
let server: TestServer;
let t: Tenants;
let keys: string[];
let alertId: string;

beforeAll(async () => {
  env = await createTestEnv();
  server = await startTestServer(env);
  t = await seedTenants(env);
  const admin = clientFor(server, await t.token('general', 'admin'));
  const theirs = clientFor(server, await t.token('riverside', 'admin'));
  keys = [
    (await admin.integrations.createKey.mutate({ name: 'Fuzz rw', scopes: ['alerts:write', 'alerts:read'] })).key,
    (await admin.integrations.createKey.mutate({ name: 'Fuzz ro', scopes: ['alerts:read'] })).key,
    (await theirs.integrations.createKey.mutate({ name: 'Fuzz riverside', scopes: ['alerts:write', 'alerts:read'] })).key,
  ];
  const created = await fhirFetch(server, 'POST', '/fhir/CommunicationRequest', {
    key: keys[0],
    raw: JSON.stringify(r4Request({ text: 'Fuzz target', recipient: `Location/${t.hospital.general.departments.ER}` })),
    headers: { 'content-type': 'application/fhir+json' },
  });
  alertId = created.data.id;
});

const ascii = (max: number) => fc.string({ unit: 'grapheme-ascii', maxLength: max });
const value = fc.oneof(ascii(30), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(ascii(5), { maxLength: 3 }), fc.dictionary(ascii(5), ascii(5), { maxKeys: 2 }));

describe('FHIR fuzz', () => {
  it('never answers 5xx; a refusal is an OperationOutcome and writes nothing', async () => {
    const er = t.hospital.general.departments.ER;
    const user = t.user('general', 'nurse.icu').id;
    const reference = fc.oneof(fc.constantFrom(`Location/${er}`, `Location/${t.hospital.riverside.departments.ER}`, `Practitioner/${user}`, `PractitionerRole/${user}`, 'Patient/1', 'Location/'), ascii(40));
    const recipient = fc.oneof(reference.map((r) => [{ reference: r }]), fc.constant([{ type: 'Location', identifier: { value: 'ICU' } }]), value);
    const mutated = fc
      .record(
        {
          status: fc.oneof(fc.constantFrom('active', 'draft', 'revoked'), value),
          priority: fc.oneof(fc.constantFrom('routine', 'urgent', 'asap', 'stat'), value),
          payload: fc.oneof(ascii(220).map((s) => [{ contentString: s }]), ascii(50).map((s) => [{ contentCodeableConcept: { text: s } }]), value),
          recipient,
          identifier: fc.oneof(ascii(20).map((v) => [{ value: v }]), value),
          category: fc.oneof(ascii(20).map((code) => [{ coding: [{ code }] }]), value),
          intent: fc.oneof(fc.constant('order'), value),
          meta: fc.oneof(fc.constant({ profile: ['http://hl7.org/fhir/5.0/StructureDefinition/CommunicationRequest'] }), value),
          resourceType: fc.oneof(fc.constant('CommunicationRequest'), value),
        },
        { requiredKeys: [] },
      )
      .map((m) => ({ raw: JSON.stringify({ ...r4Request({ text: 'Fuzzed', recipient: `Location/${er}` }), ...m }) }));
    const body = fc.oneof(
      fc.json({ maxDepth: 3 }).map((raw) => ({ raw })),
      mutated,
      // Mostly valid raises (R4 and R5, random text and recipient) so the run also reaches creation, folding and replays.
      {
        weight: 3,
        arbitrary: fc
          .tuple(fc.boolean(), ascii(60), fc.oneof({ arbitrary: fc.constantFrom(`Location/${er}`, `Practitioner/${user}`), weight: 3 }, reference), fc.option(ascii(8)))
          .map(([r5, text, ref, id]) => ({ raw: JSON.stringify((r5 ? r5Request : r4Request)({ text, recipient: ref, ...(id ? { identifier: id } : {}) })) })),
      },
      fc.constant({ raw: undefined as string | undefined }),
      ascii(40).map((raw) => ({ raw })),
    );
    const path = fc.oneof(
      { arbitrary: fc.constant('/fhir/CommunicationRequest'), weight: 3 },
      fc.constantFrom(`/fhir/CommunicationRequest/${alertId}`, `/fhir/Communication?based-on=CommunicationRequest/${alertId}`, '/fhir/metadata', '/fhir/Communication'),
      fc.tuple(fc.constantFrom('/fhir/CommunicationRequest/', '/fhir/Communication?based-on=', '/fhir/'), fc.string({ maxLength: 40 })).map(([a, b]) => `${a}${encodeURIComponent(b)}`),
      fc.tuple(fc.constantFrom('/fhir/CommunicationRequest/', '/fhir/Communication?based-on='), ascii(20)).map(([a, b]) => `${a}${b.replace(/[#\s]/g, '')}`),
    );
    const headers = fc.record(
      {
        authorization: fc.oneof({ arbitrary: fc.constantFrom(`Bearer ${keys[0]}`, ...keys.map((k) => `Bearer ${k}`)), weight: 6 }, ascii(60), fc.constant('Bearer clk_')),
        'content-type': fc.constantFrom('application/fhir+json', 'application/fhir+json', 'application/json', 'application/fhir+json; fhirVersion=5.0', 'text/plain', 'application/xml'),
        'idempotency-key': fc.oneof(ascii(20), fc.constantFrom('fuzz-1', 'fuzz-2')),
      },
      { requiredKeys: ['content-type'] },
    );
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'GET', 'POST', 'POST', 'POST', 'POST', 'PUT', 'DELETE'), path, body, headers, async (method, p, b, h) => {
        const before = await writes(env);
        const raw = method === 'GET' ? undefined : b.raw;
        const r = await fhirFetch(server, method, p, { raw, headers: h });
        seen.add(r.status);
        const what = `${method} ${p} ${raw} ${JSON.stringify(h)}`;
        expect(r.status, what).toBeLessThan(500);
        expect(r.headers.get('content-type'), what).toMatch(/^application\/fhir\+json/);
        expectValidR4(r.data);
        if (r.status >= 400) {
          expect(r.data?.resourceType, what).toBe('OperationOutcome');
          expect(await writes(env), `${what} → ${r.status}`).toBe(before);
        }
      }),
      { numRuns: 300, seed: 20261206 },
    );
    // The run reached past the key check and the validation, not only the first refusal.
    expect([...seen].sort()).toEqual(expect.arrayContaining([200, 201, 400, 401, 403, 404]));
  });
});
