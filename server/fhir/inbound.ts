import type { CommunicationRequest, Reference } from '@medplum/fhirtypes';
import { z } from 'zod';
import { invalid } from './outcome.js';
import { PRIORITY_OF_FHIR } from './mapping.js';
import { assertValidInbound } from './validate.js';

export type FhirShape = 'R4' | 'R5';

/** What Clarion takes from a CommunicationRequest (IHE mACM Mobile Report Alert). */
export interface AlertRequest {
  shape: FhirShape;
  externalId: string | null;
  priority: (typeof PRIORITY_OF_FHIR)[keyof typeof PRIORITY_OF_FHIR];
  title: string;
  titlePath: string;
  description: string | undefined;
  alertType: string;
  recipients: { reference: Reference; path: string }[];
  /** The resource as validated (R4 shape), for the idempotency request hash. */
  resource: CommunicationRequest;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const R5_FIELDS = ['intent', 'informationProvider', 'reason'] as const;

/**
 * R5 is recognised by `fhirVersion=5.0` on the content type, an R5 profile (`http://hl7.org/fhir/5.0/…`)
 * in meta.profile, or an R5-only field (intent, informationProvider, reason,
 * payload[].contentCodeableConcept); anything else is R4.
 */
export function detectShape(body: Json, contentType: string): FhirShape {
  if (/fhirversion\s*=\s*"?5/i.test(contentType)) return 'R5';
  const profiles = isObject(body.meta) && Array.isArray(body.meta.profile) ? body.meta.profile : [];
  if (profiles.some((p) => typeof p === 'string' && /\/fhir\/5\.0\/|\/R5\//i.test(p))) return 'R5';
  if (R5_FIELDS.some((f) => f in body)) return 'R5';
  const payload = Array.isArray(body.payload) ? body.payload : [];
  return payload.some((p) => isObject(p) && 'contentCodeableConcept' in p) ? 'R5' : 'R4';
}

/**
 * The R5 fields that differ, rewritten to their R4 equivalents so the one R4 definition validates both:
 * payload.contentCodeableConcept → contentString (its text, else the first coding's display or code),
 * informationProvider[0] → sender, reason[].concept / .reference → reasonCode / reasonReference; intent
 * (required in R5, absent in R4) must be a string and is then dropped. R5 profiles are not R4 ones: meta.profile is dropped.
 */
function toR4(body: Json): Json {
  const { intent, informationProvider, reason, ...rest } = body;
  if (intent !== undefined && typeof intent !== 'string') throw invalid('intent must be a code', 'CommunicationRequest.intent');
  const out: Json = { ...rest };
  if (Array.isArray(informationProvider) && informationProvider.length) out.sender = informationProvider[0];
  if (Array.isArray(reason)) {
    const concepts = reason.filter(isObject).flatMap((r) => (r.concept ? [r.concept] : []));
    const refs = reason.filter(isObject).flatMap((r) => (r.reference ? [r.reference] : []));
    if (concepts.length) out.reasonCode = concepts;
    if (refs.length) out.reasonReference = refs;
  }
  if (Array.isArray(rest.payload)) {
    out.payload = rest.payload.map((p, i) => {
      if (!isObject(p) || !isObject(p.contentCodeableConcept)) return p;
      const { contentCodeableConcept: cc, ...other } = p;
      const coding = Array.isArray(cc.coding) && isObject(cc.coding[0]) ? cc.coding[0] : {};
      const text = [cc.text, coding.display, coding.code].find((x) => typeof x === 'string' && x.trim());
      if (typeof text !== 'string') throw invalid('A payload concept needs text (the alert title is its text)', `CommunicationRequest.payload[${i}].contentCodeableConcept.text`);
      return { ...other, contentString: text };
    });
  }
  if (isObject(rest.meta)) {
    const { profile: _profile, ...meta } = rest.meta;
    out.meta = meta;
  }
  return out;
}

// The codes medplum's structure check does not look at (it checks shape, not value sets).
const fields = z.object({
  status: z.literal('active', { error: 'Clarion raises an alert from an active CommunicationRequest only' }),
  priority: z.enum(['routine', 'urgent', 'asap', 'stat'], { error: 'priority must be routine, urgent, asap or stat' }).default('routine'),
  doNotPerform: z.literal(false, { error: 'doNotPerform is not supported' }).optional(),
});

/** Validates a POSTed CommunicationRequest (either shape) and reads the alert it asks for. */
export function readCommunicationRequest(body: unknown, contentType: string): AlertRequest {
  if (!isObject(body)) throw invalid('The body must be a JSON object (a CommunicationRequest resource)');
  if (body.resourceType !== 'CommunicationRequest') throw invalid('resourceType must be CommunicationRequest', 'CommunicationRequest.resourceType');
  const shape = detectShape(body, contentType);
  const resource = (shape === 'R5' ? toR4(body) : body) as unknown as CommunicationRequest;
  assertValidInbound(resource);
  const f = fields.safeParse(resource);
  if (!f.success) {
    const i = f.error.issues[0];
    throw invalid(i?.message ?? 'invalid', `CommunicationRequest.${String(i?.path[0] ?? '')}`);
  }
  const texts = (resource.payload ?? []).flatMap((p, i) => (typeof p.contentString === 'string' && p.contentString.trim() ? [{ text: p.contentString.trim(), i }] : []));
  const field = shape === 'R5' ? 'contentCodeableConcept.text' : 'contentString';
  const first = texts[0];
  if (!first) throw invalid(`A payload with text is required: payload[0].${field} is the alert's title`, `CommunicationRequest.payload[0].${field}`);
  const id = (resource.identifier ?? []).find((x) => x.value);
  const code = resource.category?.[0]?.coding?.find((c) => c.code)?.code ?? resource.category?.[0]?.text;
  const recipients = (resource.recipient ?? []).map((reference, i) => ({ reference, path: `CommunicationRequest.recipient[${i}]` }));
  if (!recipients.length) throw invalid('A recipient is required: Location/<department id>, Practitioner/<user id> or PractitionerRole/<user id>', 'CommunicationRequest.recipient');
  return {
    shape,
    externalId: id ? (id.system ? `${id.system}|${id.value}` : (id.value as string)).slice(0, 200) : null,
    priority: PRIORITY_OF_FHIR[f.data.priority],
    title: first.text,
    titlePath: `CommunicationRequest.payload[${first.i}].${field}`,
    description: texts.slice(1).map((t) => t.text).join('\n') || undefined,
    alertType: code ?? 'alert',
    recipients,
    resource,
  };
}
