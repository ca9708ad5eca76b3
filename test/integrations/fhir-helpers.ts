import type { Resource } from '@medplum/fhirtypes';
import { Client, RESPONSE_KEY } from 'fhir-kit-client';
import { expect } from 'vitest';
import { structureErrors } from '../../server/fhir/validate.js';
import type { TestServer } from '../support/server.js';

/** The real FHIR client an EHR integration would use, pointed at this file's server with an API key. */
export const fhirClient = (server: Pick<TestServer, 'url'>, key?: string) => new Client({ baseUrl: `${server.url}/fhir`, ...(key ? { bearerToken: key } : {}) });

/** The HTTP response behind a fhir-kit-client answer (status, headers). */
export const responseOf = (result: object) => (result as Record<typeof RESPONSE_KEY, Response>)[RESPONSE_KEY];

/** A refused call: the status and the body fhir-kit-client hands back. */
// biome-ignore lint/suspicious/noExplicitAny: a FHIR JSON answer, checked by the tests' matchers
export async function refusal(call: Promise<unknown>): Promise<{ status: number; data: any }> {
  try {
    await call;
  } catch (err) {
    const e = err as { response?: { status: number; data: unknown } };
    if (e.response) return e.response;
    throw err;
  }
  throw new Error('expected the call to be refused');
}

/** Every answer, refusals included, must conform to its R4 definition (checked by the same validator, on the client side). */
export function expectValidR4(resource: unknown): void {
  expect(structureErrors(resource as Resource), JSON.stringify(resource).slice(0, 300)).toEqual([]);
}

export function expectOutcome(r: { status: number; data: unknown }, status: number, code?: string, expression?: string): void {
  expect(r.status).toBe(status);
  expect(r.data).toMatchObject({ resourceType: 'OperationOutcome', issue: expect.arrayContaining([expect.objectContaining({ severity: 'error', ...(code ? { code } : {}) })]) });
  if (expression) expect((r.data as { issue: { expression?: string[] }[] }).issue.flatMap((i) => i.expression ?? [])).toContain(expression);
  expectValidR4(r.data);
}

export interface RequestOptions {
  text: string;
  recipient: string | object;
  priority?: string;
  identifier?: string;
  more?: Record<string, unknown>;
}

const recipientOf = (r: string | object) => (typeof r === 'string' ? { reference: r } : r);

/** An IHE mACM Mobile Report Alert CommunicationRequest, R4 shape (payload.contentString). */
export const r4Request = (o: RequestOptions) => ({
  resourceType: 'CommunicationRequest',
  ...(o.identifier ? { identifier: [{ system: 'urn:oid:1.2.3.4.5', value: o.identifier }] } : {}),
  status: 'active',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/communication-category', code: 'alert' }] }],
  priority: o.priority ?? 'asap',
  payload: [{ contentString: o.text }],
  recipient: [recipientOf(o.recipient)],
  ...o.more,
});

/** The same in R5: intent is required, text is payload.contentCodeableConcept.text, an R5 profile. */
export const r5Request = (o: RequestOptions) => ({
  resourceType: 'CommunicationRequest',
  meta: { profile: ['http://hl7.org/fhir/5.0/StructureDefinition/CommunicationRequest'] },
  ...(o.identifier ? { identifier: [{ value: o.identifier }] } : {}),
  status: 'active',
  intent: 'order',
  priority: o.priority ?? 'stat',
  payload: [{ contentCodeableConcept: { text: o.text } }],
  recipient: [recipientOf(o.recipient)],
  informationProvider: [{ reference: 'Device/monitor-7', display: 'Bed 12 monitor' }],
  ...o.more,
});

/** A raw request, for what a well-behaved client would never send (wrong type, broken JSON). */
// biome-ignore lint/suspicious/noExplicitAny: a FHIR JSON answer, checked by the tests' matchers
export async function fhirFetch(server: Pick<TestServer, 'url'>, method: string, path: string, o: { key?: string; raw?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; data: any; headers: Headers }> {
  const headers: Record<string, string> = { ...(o.key ? { authorization: `Bearer ${o.key}` } : {}), ...o.headers };
  const res = await fetch(`${server.url}${path}`, { method, headers, body: o.raw });
  const text = await res.text();
  let data: unknown = text;
  try {
    data = JSON.parse(text);
  } catch {}
  return { status: res.status, data, headers: res.headers };
}
