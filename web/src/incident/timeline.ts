import type { IncidentRecord } from '../../../server/alerts/incident-schemas.js';

/** One line of the printed timeline: an event, a page, a message sent, a screen reached. */
export interface TimelineRow {
  key: string;
  at: string;
  what: string;
  who: string;
  /** Audit chain seq (and hash prefix) when the step was audited. */
  audit: string | null;
}

const channelLabel: Record<string, string> = { push: 'Push', sms: 'SMS', voice: 'Voice call', email: 'Email', webhook: 'Pager webhook' };
const channel = (c: string) => channelLabel[c] ?? c;
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1).replace(/_/g, ' ');

/** Event types in words; a type added later reads as its own name (never dropped). */
function eventWords(e: IncidentRecord['events'][number], person: (id: string | null) => string): string {
  const d = (e.detail ?? {}) as Record<string, unknown>;
  switch (e.type) {
    case 'created':
      return 'Raised';
    case 'escalated':
      return `Escalated to level ${e.escalationLevel}${d.reason ? ` (${String(d.reason).replace(/_/g, ' ')})` : ''}`;
    case 'declined':
      return `Declined: “${String(d.reason ?? '')}”`;
    case 'repeated':
      return `Raised again (repeat #${String(d.repeatCount ?? '?')})`;
    case 'paged': {
      const ids = Array.isArray(d.userIds) ? d.userIds.filter((x): x is string => typeof x === 'string') : [];
      return `Paged level ${String(d.level ?? e.escalationLevel)}${ids.length ? `: ${ids.map(person).join(', ')}` : ''}`;
    }
    case 'coverage_gap':
      return `Nobody to page at level ${String(d.level ?? e.escalationLevel)}`;
    case 'reopened':
      return 'Back on the board: acknowledgement timed out';
    case 'shelved':
      return `Shelved${d.minutes ? ` for ${String(d.minutes)} min` : ''}${d.reason ? `: “${String(d.reason)}”` : ''}`;
    default:
      return cap(e.type);
  }
}

/** Times in the hospital's zone, to the second, with the zone's abbreviation. */
export function zonedTime(iso: string | null, timeZone: string): string {
  if (!iso) return '—';
  try {
    return new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false, timeZoneName: 'short' }).format(new Date(iso));
  } catch {
    return iso;
  }
}

/** Everything that happened, in time order (ties in the order things are recorded). */
export function timelineOf(r: IncidentRecord): TimelineRow[] {
  const name = new Map(r.people.map((p) => [p.id, p.name]));
  const person = (id: string | null) => (id ? (name.get(id) ?? 'a user') : 'system');
  const rows: (TimelineRow & { order: number })[] = [];
  let order = 0;
  for (const e of r.events) {
    rows.push({ key: `e${e.id}`, at: e.occurredAt, what: eventWords(e, person), who: person(e.actorId), audit: e.audit ? `#${e.audit.seq} ${e.audit.hash.slice(0, 12)}…` : null, order: order++ });
  }
  for (const p of r.pages) {
    const who = person(p.userId);
    if (p.deliveredAt) rows.push({ key: `pd${p.id}`, at: p.deliveredAt, what: `Page reached a screen of ${who}`, who, audit: null, order: order++ });
    if (p.readAt) rows.push({ key: `pr${p.id}`, at: p.readAt, what: `Page read by ${who}`, who, audit: null, order: order++ });
  }
  for (const a of r.attempts) {
    const who = person(a.userId);
    const to = `${channel(a.channel)} to ${who}${a.address ? ` (${a.address})` : ''}`;
    if (a.sentAt) rows.push({ key: `as${a.id}`, at: a.sentAt, what: `${to} sent${a.providerId ? `, provider id ${a.providerId}` : ''}`, who: 'system', audit: null, order: order++ });
    if (a.deliveredAt) rows.push({ key: `ad${a.id}`, at: a.deliveredAt, what: `${to} delivered`, who: 'system', audit: null, order: order++ });
    if (a.status === 'failed') rows.push({ key: `af${a.id}`, at: a.updatedAt, what: `${to} failed${a.error ? `: ${a.error}` : ''}`, who: 'system', audit: null, order: order++ });
    if (a.answeredAt) rows.push({ key: `aa${a.id}`, at: a.answeredAt, what: `${cap(a.answer ?? 'answered')} from the ${channel(a.channel)} message`, who, audit: null, order: order++ });
  }
  for (const s of r.receipts) {
    const who = person(s.userId);
    rows.push({ key: `rd${s.sessionId}`, at: s.deliveredAt, what: `Shown on a screen of ${who}`, who, audit: null, order: order++ });
    if (s.seenAt) rows.push({ key: `rs${s.sessionId}`, at: s.seenAt, what: `Seen on a screen of ${who}`, who, audit: null, order: order++ });
  }
  // Audit rows no event carries (an earlier export of this record, a refused action).
  const referenced = new Set(r.events.flatMap((e) => (e.audit ? [e.audit.seq] : [])));
  for (const a of r.audit) {
    if (referenced.has(a.seq)) continue;
    const what = a.action === 'alert.incident_record_exported' ? 'Incident record exported' : `${cap(a.action.replace(/^alert\./, ''))}${a.outcome === 'failure' ? ' (refused)' : ''}`;
    rows.push({ key: `l${a.seq}`, at: `${a.timestamp.slice(0, 23)}Z`, what, who: person(a.userId), audit: `#${a.seq} ${a.hash.slice(0, 12)}…`, order: order++ });
  }
  return rows.sort((x, y) => Date.parse(x.at) - Date.parse(y.at) || x.order - y.order);
}

export { channel as channelLabel };
