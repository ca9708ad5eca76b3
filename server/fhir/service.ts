import type { Reference } from '@medplum/fhirtypes';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { selectAlerts } from '../alerts/queries.js';
import { type Alert, createAlertInput } from '../alerts/schemas.js';
import { createAlert } from '../alerts/service.js';
import type { AppDeps } from '../deps.js';
import { alertEvents, alertPages, alertReceipts, alerts, departments, pageAttempts, users } from '../db/schema.js';
import { type KeyCaller, keyAudit } from '../integrations/keys.js';
import { idempotent } from '../rest/idempotency.js';
import type { AlertRequest } from './inbound.js';
import { invalid, notFoundOutcome } from './outcome.js';

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * Where a recipient points, as a department of the key's hospital. Clarion routes an alert to a
 * department and its escalation policy decides who is paged, so every recipient names one:
 * Location/<department id> (or a Location by identifier: the department's code) is the department;
 * Practitioner/<user id> and PractitionerRole/<user id> (a Clarion user is one practitioner in one
 * role in one department) are that user's department. Unknown and other hospitals' ids are 404 alike.
 */
async function departmentOf(deps: AppDeps, hospitalId: string, ref: Reference, path: string): Promise<{ id: string; code: string }> {
  const m = /^(Location|Practitioner|PractitionerRole)\/([^/]+)$/.exec(ref.reference ?? '');
  const type = m?.[1] ?? ref.type;
  if (!m && type === 'Location' && ref.identifier?.value) {
    const [d] = await deps.db
      .select({ id: departments.id, code: departments.code })
      .from(departments)
      .where(and(eq(departments.hospitalId, hospitalId), eq(departments.code, ref.identifier.value), eq(departments.isActive, true)));
    if (!d) throw notFoundOutcome(`No department with the code ${ref.identifier.value.slice(0, 40)}`, path);
    return d;
  }
  const id = m?.[2];
  if (!m || !id || !FHIR_ID.test(id)) {
    throw invalid('A recipient must be Location/<department id>, Practitioner/<user id>, PractitionerRole/<user id>, or a Location with the department code as identifier', path);
  }
  if (type === 'Location') {
    const [d] = await deps.db
      .select({ id: departments.id, code: departments.code })
      .from(departments)
      .where(and(eq(departments.hospitalId, hospitalId), eq(departments.id, id), eq(departments.isActive, true)));
    if (!d) throw notFoundOutcome(`Location/${id} not found`, path);
    return d;
  }
  const [u] = await deps.db
    .select({ id: departments.id, code: departments.code })
    .from(users)
    .leftJoin(departments, and(eq(departments.id, users.departmentId), eq(departments.isActive, true)))
    .where(and(eq(users.hospitalId, hospitalId), eq(users.id, id), eq(users.isActive, true)));
  if (!u) throw notFoundOutcome(`${type}/${id} not found`, path);
  if (!u.id || !u.code) throw invalid(`${type}/${id} belongs to no department: name a Location (the department) as well`, path);
  return { id: u.id, code: u.code };
}

/** Every recipient must point at the same department: one request raises one alert in one place. */
export async function resolveDepartment(deps: AppDeps, hospitalId: string, req: AlertRequest): Promise<string> {
  let found: { id: string; code: string } | undefined;
  for (const r of req.recipients) {
    const d = await departmentOf(deps, hospitalId, r.reference, r.path);
    if (found && found.id !== d.id) throw invalid(`The recipients are in different departments (${found.code}, ${d.code}): send one CommunicationRequest per department`, r.path);
    found = d;
  }
  return (found as { id: string }).id;
}

/** zod's path on createAlertInput → where in the resource the value came from, and what the sender calls it. */
const SOURCE_OF: Record<string, [string, string]> = {
  alertType: ['CommunicationRequest.category[0].coding[0].code', 'category code (the alert type)'],
  description: ['CommunicationRequest.payload', 'payload text after the first (the description)'],
};
const sourceOf = (req: AlertRequest, key: string): [string, string] => (key === 'title' ? [req.titlePath, 'first payload text (the title)'] : (SOURCE_OF[key] ?? ['CommunicationRequest', key]));

export interface Raised {
  status: 200 | 201;
  alert: Alert;
}

/**
 * The raise, through the same path as REST (createAlert: batching, dedup, audit with the key as the
 * actor, pages), with source `fhir` and the request's identifier as the external id, so a retried
 * POST of the same open request folds into its alert (200) instead of raising a second one.
 * `Idempotency-Key` works as on REST (server/rest/idempotency.ts).
 */
export async function raiseFromRequest(deps: AppDeps, caller: KeyCaller, ip: string | null, req: AlertRequest, idempotencyKey: string | undefined): Promise<Raised> {
  const departmentId = await resolveDepartment(deps, caller.hospitalId, req);
  const input = createAlertInput.safeParse({ title: req.title, description: req.description, priority: req.priority, alertType: req.alertType, departmentId });
  if (!input.success) {
    const i = input.error.issues[0];
    const [path, name] = sourceOf(req, String(i?.path[0] ?? ''));
    throw invalid(`${name}: ${i?.message ?? 'invalid'}`, path);
  }
  return idempotent(deps.db, caller, idempotencyKey, `POST /fhir/CommunicationRequest ${JSON.stringify(req.resource)}`, async () => {
    const a = await createAlert(deps, null, keyAudit(caller, ip), { ...input.data, hospitalId: caller.hospitalId, source: 'fhir', externalId: req.externalId });
    const { deduplicated, priorityRaisedFrom: _p, ...alert } = a;
    return { status: deduplicated ? 200 : 201, alert } satisfies Raised;
  });
}

/** An alert of the key's hospital; another hospital's is not found, exactly like a missing one. */
export async function alertOf(deps: AppDeps, caller: KeyCaller, id: string): Promise<Alert> {
  const [alert] = FHIR_ID.test(id) ? await selectAlerts(deps.db, and(eq(alerts.hospitalId, caller.hospitalId), eq(alerts.id, id))) : [];
  if (!alert) throw notFoundOutcome(`CommunicationRequest/${id.slice(0, 64)} not found`);
  return alert;
}

/** Everything that happened to reach people about one alert (already checked to be the caller's hospital's). */
export async function deliveryOf(deps: AppDeps, alertId: string) {
  const [pages, attempts, screens, answers] = await Promise.all([
    deps.db
      .select({ page: alertPages, userName: users.name })
      .from(alertPages)
      .innerJoin(users, eq(users.id, alertPages.userId))
      .where(eq(alertPages.alertId, alertId))
      .orderBy(asc(alertPages.level), asc(alertPages.pagedAt), asc(alertPages.id)),
    deps.db.select().from(pageAttempts).where(eq(pageAttempts.alertId, alertId)).orderBy(asc(pageAttempts.step), asc(pageAttempts.createdAt), asc(pageAttempts.id)),
    deps.db
      .select({ userId: alertReceipts.userId, userName: users.name, deliveredAt: alertReceipts.deliveredAt, seenAt: alertReceipts.seenAt })
      .from(alertReceipts)
      .innerJoin(users, eq(users.id, alertReceipts.userId))
      .where(eq(alertReceipts.alertId, alertId))
      .orderBy(asc(alertReceipts.deliveredAt)),
    deps.db
      .select({ id: alertEvents.id, type: alertEvents.type, actorId: alertEvents.actorId, actorName: users.name, detail: alertEvents.detail, occurredAt: alertEvents.occurredAt })
      .from(alertEvents)
      .leftJoin(users, eq(users.id, alertEvents.actorId))
      .where(and(eq(alertEvents.alertId, alertId), inArray(alertEvents.type, ['acknowledged', 'declined'])))
      .orderBy(asc(alertEvents.id)),
  ]);
  return { pages, attempts, screens, answers };
}
export type Delivery = Awaited<ReturnType<typeof deliveryOf>>;
