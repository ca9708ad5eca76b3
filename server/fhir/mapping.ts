import type { Alert } from '../alerts/schemas.js';

/** FHIR request priority ↔ Clarion alert priority (DESIGN.md "Integrations"). */
export const PRIORITY_OF_FHIR = { routine: 'low', urgent: 'medium', asap: 'high', stat: 'critical' } as const;
export const FHIR_OF_PRIORITY = { low: 'routine', medium: 'urgent', high: 'asap', critical: 'stat' } as const satisfies Record<Alert['priority'], string>;

type RequestStatus = 'active' | 'on-hold' | 'revoked' | 'completed' | 'unknown';

/**
 * An alert's status as the CommunicationRequest's: open (active, acknowledged) is active — the request
 * is still being carried out; shelved and suppressed are on hold; resolved is completed; cancelled is revoked.
 */
const STATUS: Record<string, RequestStatus> = { active: 'active', acknowledged: 'active', shelved: 'on-hold', suppressed: 'on-hold', resolved: 'completed', cancelled: 'revoked' };
export const requestStatusOf = (status: string): RequestStatus => STATUS[status] ?? 'unknown';

/** Clarion's own code systems, for what FHIR has no code for (the kind of Communication, the channel, the alert type). */
export const CS = {
  kind: 'https://clarion.health/fhir/CodeSystem/communication-kind',
  channel: 'https://clarion.health/fhir/CodeSystem/notification-channel',
  alertType: 'https://clarion.health/fhir/CodeSystem/alert-type',
  alertStatus: 'https://clarion.health/fhir/CodeSystem/alert-status',
} as const;
