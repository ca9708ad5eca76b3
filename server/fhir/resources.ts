import type { Bundle, Communication, CommunicationRequest, Practitioner, Reference } from '@medplum/fhirtypes';
import { pageReason } from '../alerts/pages.js';
import type { Alert, Page } from '../alerts/schemas.js';
import { CS, FHIR_OF_PRIORITY, requestStatusOf } from './mapping.js';
import type { Delivery } from './service.js';

const iso = (d: Date | null | undefined) => d?.toISOString();
const earlier = (a: Date | null | undefined, b: Date | null) => (a && b ? new Date(Math.min(a.getTime(), b.getTime())) : (a ?? b));
const coded = (system: string, code: string) => ({ coding: [{ system, code }], text: code });
const practitioner = (id: string, name: string | null): Reference<Practitioner> => ({ reference: `Practitioner/${id}`, ...(name ? { display: name } : {}) });

/** The identifier the sender gave (`system|value` as stored in externalId), only for alerts raised over FHIR. */
function identifierOf(alert: Alert): CommunicationRequest['identifier'] {
  if (alert.source !== 'fhir' || !alert.externalId) return undefined;
  const bar = alert.externalId.lastIndexOf('|');
  return [bar > 0 ? { system: alert.externalId.slice(0, bar), value: alert.externalId.slice(bar + 1) } : { value: alert.externalId }];
}

/** An alert as the CommunicationRequest (R4) that asked for it: id = alert id, status from the alert's. */
export function toCommunicationRequest(alert: Alert): CommunicationRequest {
  const identifier = identifierOf(alert);
  return {
    resourceType: 'CommunicationRequest',
    id: alert.id,
    meta: { versionId: String(alert.version), lastUpdated: alert.updatedAt },
    ...(identifier ? { identifier } : {}),
    status: requestStatusOf(alert.status),
    // Clarion's own status says more (acknowledged is still an active request): it rides as the status reason.
    statusReason: coded(CS.alertStatus, alert.status),
    category: [coded(CS.alertType, alert.alertType)],
    priority: FHIR_OF_PRIORITY[alert.priority],
    payload: [{ contentString: alert.title }, ...(alert.description ? [{ contentString: alert.description }] : [])],
    authoredOn: alert.createdAt,
    // R4 lists no Location among recipient targets (a validator warns, it does not refuse): it is the department.
    recipient: [{ reference: `Location/${alert.departmentId}`, display: alert.departmentName } as Reference<never>],
  };
}

const ATTEMPT_STATUS: Record<string, Communication['status']> = {
  queued: 'preparation',
  sending: 'in-progress',
  sent: 'in-progress',
  delivered: 'completed',
  read: 'completed',
  responded: 'completed',
  failed: 'not-done',
  cancelled: 'stopped',
};

/**
 * Who the alert reached and who answered, one Communication each, all basedOn the request:
 * `page-<id>` per page (a person paged at a level, and why), `attempt-<id>` per notification attempt
 * on a channel (partOf its page), `delivered-` / `read-` receipts per page (or per person for a board
 * screen that showed it without a page: `-u<user id>`), and `acknowledged-` / `declined-<event id>` per
 * answer (a decline carries its reason).
 */
export function toCommunications(alert: Alert, d: Delivery): Communication[] {
  const basedOn = [{ reference: `CommunicationRequest/${alert.id}` }];
  const priority = FHIR_OF_PRIORITY[alert.priority];
  const base = (id: string, kind: string, status: Communication['status']): Communication => ({ resourceType: 'Communication', id, basedOn, status, category: [coded(CS.kind, kind)], priority });
  const out: Communication[] = [];
  const pagedUsers = new Set<string>();
  const latestPage = new Map<string, string>();
  for (const { page: p, userName } of d.pages) {
    pagedUsers.add(p.userId);
    latestPage.set(p.userId, p.id);
    const who = [practitioner(p.userId, userName)] as [Reference<Practitioner>];
    const reached = p.deliveredAt ?? p.readAt ?? p.respondedAt;
    out.push({
      ...base(`page-${p.id}`, 'page', reached ? 'completed' : 'in-progress'),
      recipient: who,
      sent: iso(p.pagedAt),
      ...(p.deliveredAt ? { received: iso(p.deliveredAt) } : {}),
      note: [{ text: `Escalation level ${p.level}: ${pageReason(p.target as Page['target'], p.targetDetail)}` }],
    });
    const inResponseTo = [{ reference: `Communication/page-${p.id}` }];
    if (p.deliveredAt) out.push({ ...base(`delivered-${p.id}`, 'delivered', 'completed'), inResponseTo, sender: who[0], sent: iso(p.deliveredAt) });
    if (p.readAt) out.push({ ...base(`read-${p.id}`, 'read', 'completed'), inResponseTo, sender: who[0], sent: iso(p.readAt) });
  }
  for (const a of d.attempts) {
    out.push({
      ...base(`attempt-${a.id}`, 'attempt', ATTEMPT_STATUS[a.status] ?? 'unknown'),
      partOf: [{ reference: `Communication/page-${a.pageId}` }],
      medium: [coded(CS.channel, a.channel)],
      recipient: [practitioner(a.userId, null)],
      ...(a.sentAt ? { sent: iso(a.sentAt) } : {}),
      ...(a.deliveredAt ? { received: iso(a.deliveredAt) } : {}),
      ...(a.status === 'failed' ? { statusReason: { text: 'The channel could not reach the person; the next one is tried' } } : {}),
      note: [{ text: `Step ${a.step} (${a.channel})${a.answer ? `, answered: ${a.answer}` : ''}` }],
    });
  }
  // Board screens of people who were not paged (a department's screens, a head doctor's board): per person, first delivery and first sight.
  const screens = new Map<string, { name: string; delivered: Date; seen: Date | null }>();
  for (const s of d.screens) {
    if (pagedUsers.has(s.userId)) continue;
    const cur = screens.get(s.userId);
    screens.set(s.userId, { name: s.userName, delivered: earlier(cur?.delivered, s.deliveredAt) as Date, seen: earlier(cur?.seen, s.seenAt) });
  }
  for (const [userId, s] of screens) {
    const who = practitioner(userId, s.name);
    out.push({ ...base(`delivered-u${userId}`, 'delivered', 'completed'), sender: who, sent: iso(s.delivered) });
    if (s.seen) out.push({ ...base(`read-u${userId}`, 'read', 'completed'), sender: who, sent: iso(s.seen) });
  }
  for (const e of d.answers) {
    const reason = e.type === 'declined' ? String((e.detail as { reason?: unknown } | null)?.reason ?? '') : '';
    const page = e.actorId ? latestPage.get(e.actorId) : undefined;
    out.push({
      ...base(`${e.type}-${e.id}`, e.type, 'completed'),
      ...(page ? { inResponseTo: [{ reference: `Communication/page-${page}` }] } : {}),
      ...(e.actorId ? { sender: practitioner(e.actorId, e.actorName) } : {}),
      sent: iso(e.occurredAt),
      ...(reason ? { statusReason: { text: reason }, payload: [{ contentString: reason }] } : {}),
      ...(e.actorId ? {} : { note: [{ text: 'By an integration (API key), not a person' }] }),
    });
  }
  return out;
}

export function searchset(base: string, selfUrl: string, resources: Communication[]): Bundle<Communication> {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: resources.length,
    link: [{ relation: 'self', url: selfUrl }],
    entry: resources.map((resource) => ({ fullUrl: `${base}/Communication/${resource.id}`, resource, search: { mode: 'match' } })),
  };
}
