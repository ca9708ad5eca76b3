import type { CapabilityStatement } from '@medplum/fhirtypes';

/** What `GET /fhir/metadata` answers: the first thing every FHIR client asks. */
export function capabilityStatement(baseUrl: string): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-12-06',
    publisher: 'Clarion',
    kind: 'instance',
    software: { name: 'Clarion' },
    implementation: { description: 'Clarion alerts over FHIR: IHE mACM Mobile Report Alert (CommunicationRequest) and its dispositions (Communication)', url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'application/json'],
    rest: [
      {
        mode: 'server',
        documentation: 'Accepts R4 and R5 shapes of the CommunicationRequest fields Clarion reads; answers R4.',
        security: { description: 'Authorization: Bearer clk_… — a Clarion API key; alerts:write to create, alerts:read to read and search. 600 requests a minute per key, shared with the REST API.' },
        resource: [
          {
            type: 'CommunicationRequest',
            documentation: 'Create raises an alert (source fhir); read answers its current state. Recipients: Location/<department id>, Practitioner/<user id>, PractitionerRole/<user id>.',
            interaction: [{ code: 'create' }, { code: 'read' }],
          },
          {
            type: 'Communication',
            documentation: 'One per page, notification attempt and receipt (delivered, read, acknowledged, declined) of an alert.',
            interaction: [{ code: 'search-type' }],
            searchParam: [{ name: 'based-on', type: 'reference', documentation: 'CommunicationRequest/<id> (required)' }],
          },
        ],
      },
    ],
  };
}
