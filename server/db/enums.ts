// The enumerations' values, with no drizzle import, so the zod schemas (and the web app that imports
// them) do not pull the ORM into the browser. server/db/schema.ts turns them into Postgres enums.
export const roles = ['operator', 'doctor', 'nurse', 'head_doctor', 'admin'] as const;
export const priorities = ['low', 'medium', 'high', 'critical'] as const;
/** `shelved`: told "not now" for a while (ISA-18.2), still open; `suppressed`: raised inside a suppression window, kept but paging nobody (alarm issue). */
export const alertStatuses = ['active', 'acknowledged', 'resolved', 'cancelled', 'shelved', 'suppressed'] as const;
/** The statuses of an alert that still needs someone: the board's, the dedup's, the expiry's. */
export const openAlertStatuses = ['active', 'acknowledged', 'shelved'] as const;
/** Hospital codes (alarm issue): critical, hospital-wide, never folded, shelved or suppressed. */
export const hospitalCodes = ['blue', 'rapid_response', 'fire', 'lockdown', 'missing_person'] as const;
export const alertEventTypes = [
  'created',
  'acknowledged',
  'escalated',
  'resolved',
  'cancelled',
  'expired',
  'updated',
  'declined',
  'reopened',
  'repeated',
  'paged',
  'coverage_gap',
  'shelved',
  'unshelved',
  'suppressed',
  'responding',
] as const;
export const escalationReasons = ['timeout', 'manual', 'no_response', 'declined', 'ack_timeout', 'coverage_gap'] as const;
export const auditOutcomes = ['success', 'failure'] as const;
export const exportStatuses = ['queued', 'running', 'completed', 'failed', 'expired'] as const;
export const exportFormats = ['csv', 'ndjson'] as const;
export const setupTokenPurposes = ['account_setup', 'password_reset'] as const;
export const pageResponses = ['acknowledged', 'declined'] as const;
/** How a page reaches a person off-screen (the channels issue). */
export const notificationChannels = ['push', 'sms', 'voice', 'email', 'webhook'] as const;
/** One attempt to reach a paged person on one channel (the outbox's states). */
export const attemptStatuses = ['queued', 'sending', 'sent', 'delivered', 'read', 'responded', 'failed', 'cancelled'] as const;
