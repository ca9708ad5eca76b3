import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Resource } from '@medplum/fhirtypes';
import type { AppDeps } from '../deps.js';
import { clientIp } from '../http/client-info.js';
import type { ApiKeyScope } from '../integrations/schemas.js';
import { authenticateKey, type KeyCaller } from '../integrations/keys.js';
import { takeRestSlot } from '../rest/rate-limit.js';
import { capabilityStatement } from './capability.js';
import { readCommunicationRequest } from './inbound.js';
import { FhirError, fhirError, invalid, outcome, toFhirError } from './outcome.js';
import { searchset, toCommunicationRequest, toCommunications } from './resources.js';
import { alertOf, deliveryOf, raiseFromRequest } from './service.js';
import { assertValidOutbound, definitionsIndexed, definitionsReady, structureErrors } from './validate.js';

const MAX_BODY_BYTES = 1_000_000;
const DRAIN_BYTES = 8_000_000;
const FHIR_JSON = 'application/fhir+json; charset=utf-8';
/** FHIR's own media type, plain JSON (what many clients send) and the DSTU2 spelling some still use. */
const JSON_TYPES = /^application\/(fhir\+json|json|json\+fhir)\s*(;|$)/i;
const READ = /^\/fhir\/CommunicationRequest\/([^/]+)$/;

function send(res: ServerResponse, status: number, resource: Resource, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': FHIR_JSON, 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(resource));
}

/** 401 without a valid key, 429 past the key's budget (the REST API's limiter: one budget per key), 403 without the scope. */
async function keyFor(deps: AppDeps, req: IncomingMessage, scope: ApiKeyScope): Promise<KeyCaller> {
  const auth = req.headers.authorization;
  const caller = await authenticateKey(deps.db, auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined);
  if (!caller) throw new FhirError(401, [{ severity: 'error', code: 'login', diagnostics: 'Send a valid API key: Authorization: Bearer clk_…' }], { 'www-authenticate': 'Bearer realm="clarion-fhir"' });
  const retryAfter = await takeRestSlot(deps, caller.keyId);
  if (retryAfter !== null) throw new FhirError(429, [{ severity: 'error', code: 'throttled', diagnostics: `Rate limit: retry in ${retryAfter} s` }], { 'retry-after': String(retryAfter) });
  if (!caller.scopes.includes(scope)) throw fhirError(403, 'forbidden', `This key lacks the ${scope} scope`);
  return caller;
}

/**
 * The body, at most 1 MB. A larger one is still read to its end (up to 8 MB, then the connection is
 * dropped) before the 413: answering while the client is still sending resets its connection, and it
 * would see a network error instead of the OperationOutcome.
 */
async function readLimited(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > DRAIN_BYTES) break;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  if (size > MAX_BODY_BYTES) throw fhirError(413, 'too-long', `The body is over ${MAX_BODY_BYTES} bytes`);
  return Buffer.concat(chunks).toString('utf8');
}

async function readJsonBody(req: IncomingMessage): Promise<{ body: unknown; contentType: string }> {
  const contentType = req.headers['content-type'] ?? '';
  if (!JSON_TYPES.test(contentType)) throw fhirError(415, 'not-supported', 'Send the resource as application/fhir+json');
  const text = await readLimited(req);
  try {
    return { body: JSON.parse(text), contentType };
  } catch {
    throw invalid('The body is not valid JSON');
  }
}

/** `based-on=CommunicationRequest/<id>` (also a bare id, or an absolute URL ending in CommunicationRequest/<id>). */
function basedOnId(url: URL): string {
  const values = url.searchParams.getAll('based-on');
  const m = values.length === 1 ? /^(?:(?:https?:\/\/[^\s?#]*\/)?CommunicationRequest\/)?([A-Za-z0-9\-.]{1,64})$/.exec(values[0] as string) : null;
  if (!m?.[1]) throw invalid('Search with one based-on=CommunicationRequest/<id>');
  return m[1];
}

async function route(deps: AppDeps, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const base = `${deps.config.publicUrl}/fhir`;
  const path = url.pathname.replace(/\/+$/, '');
  const method = req.method ?? 'GET';
  const only = (allowed: string) => {
    if (method !== allowed) throw new FhirError(405, [{ severity: 'error', code: 'not-supported', diagnostics: `${method} is not supported here` }], { allow: allowed });
  };
  if (path === '/fhir/metadata') {
    only('GET');
    return send(res, 200, assertValidOutbound(capabilityStatement(base)));
  }
  if (path === '/fhir/CommunicationRequest') {
    only('POST');
    const caller = await keyFor(deps, req, 'alerts:write');
    const { body, contentType } = await readJsonBody(req);
    const request = readCommunicationRequest(body, contentType);
    const idem = req.headers['idempotency-key'];
    const raised = await raiseFromRequest(deps, caller, clientIp(req, deps.config.auth.trustProxyHops), request, typeof idem === 'string' ? idem : undefined);
    const resource = assertValidOutbound(toCommunicationRequest(raised.alert));
    return send(res, raised.status, resource, { location: `/fhir/CommunicationRequest/${raised.alert.id}`, etag: `W/"${raised.alert.version}"` });
  }
  const read = READ.exec(path);
  if (read) {
    only('GET');
    const caller = await keyFor(deps, req, 'alerts:read');
    const alert = await alertOf(deps, caller, decodeURIComponent(read[1] as string));
    return send(res, 200, assertValidOutbound(toCommunicationRequest(alert)), { etag: `W/"${alert.version}"` });
  }
  if (path === '/fhir/Communication') {
    only('GET');
    const caller = await keyFor(deps, req, 'alerts:read');
    const alert = await alertOf(deps, caller, basedOnId(url));
    const bundle = searchset(base, `${base}/Communication?based-on=CommunicationRequest/${alert.id}`, toCommunications(alert, await deliveryOf(deps, alert.id)));
    return send(res, 200, assertValidOutbound(bundle));
  }
  throw fhirError(404, 'not-supported', `${method} ${path.slice(0, 100)} is not a Clarion FHIR interaction (see /fhir/metadata)`);
}

/**
 * The FHIR surface (DESIGN.md "Integrations"): IHE mACM Mobile Report Alert. Every refusal is an
 * OperationOutcome with the status REST would use; bad input is never a 5xx and writes nothing.
 */
export async function handleFhir(deps: AppDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const log = deps.log.child({ component: 'fhir' });
  try {
    await definitionsReady();
    await route(deps, req, res, new URL(req.url ?? '/', 'http://clarion.invalid'));
  } catch (err) {
    const e = err instanceof FhirError || !(err instanceof URIError) ? toFhirError(err) : invalid('The URL is not valid');
    if (e.status >= 500) log.error({ err, method: req.method, path: (req.url ?? '').split('?')[0] }, 'FHIR request failed');
    const body = outcome(e.issues);
    try {
      const broken = definitionsIndexed() ? structureErrors(body) : [];
      if (broken.length) log.error({ issues: broken }, 'FHIR: an OperationOutcome of ours is not valid R4');
    } catch (checkErr) {
      log.error({ err: checkErr }, 'FHIR: could not check an OperationOutcome');
    }
    // A refusal before the body was read (401, 415…): read it off first, for the same reason as readLimited.
    if (!req.readableEnded) await readLimited(req).catch(() => undefined);
    if (!res.headersSent) send(res, e.status, body, e.headers);
    else res.end();
  }
}
