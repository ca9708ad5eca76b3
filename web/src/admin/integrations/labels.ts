import { webhookEventTypes } from '../../../../server/integrations/webhook-schemas.js';

/** Each webhook event in words, in the order the server lists them (webhookEventTypes). */
const eventWords: Record<string, string> = {
  'alert.created': 'Alert raised',
  'alert.acknowledged': 'Acknowledged',
  'alert.escalated': 'Escalated',
  'alert.resolved': 'Resolved',
  'alert.cancelled': 'Cancelled',
  'alert.expired': 'Expired',
  'alert.updated': 'Changed',
  'alert.declined': 'Declined',
  'alert.reopened': 'Reopened',
  'alert.repeated': 'Raised again',
  'alert.paged': 'Paged someone',
  'alert.coverage_gap': 'Nobody on call',
  'alert.shelved': 'Shelved',
  'alert.unshelved': 'Back from the shelf',
  'alert.suppressed': 'Kept quiet (suppression window)',
  'alert.responding': 'Someone responding to a code',
};
export const webhookEvents = webhookEventTypes.map((value) => ({ value, label: eventWords[value] ?? value }));
export const eventLabel = (t: string): string => eventWords[t] ?? t;

export const scopeLabel: Record<string, string> = { 'alerts:write': 'Raise and change alerts', 'alerts:read': 'Read alerts' };

/** A delivery's state in words (never only its colour). */
export const deliveryStatusLabel: Record<string, string> = { pending: 'Waiting to retry', sending: 'Sending', delivered: 'Delivered', dead: 'Gave up' };

/** An HL7 source's heartbeat in words: the longest silence before a system alert. */
export function heartbeatLabel(seconds: number | null): string {
  if (seconds === null) return 'None';
  if (seconds % 3600 === 0) return `After ${seconds / 3600} h of silence`;
  if (seconds % 60 === 0) return `After ${seconds / 60} min of silence`;
  return `After ${seconds} s of silence`;
}

export const hl7SourceState = (isActive: boolean): string => (isActive ? 'Active' : 'Deactivated: its messages are refused');
