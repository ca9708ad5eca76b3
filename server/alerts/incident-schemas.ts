import { z } from 'zod';
import { zId, zIso } from '../common/schemas.js';
import { alertSchema } from './schemas.js';

/**
 * alerts.incidentRecord: one alert's whole story for a hospital's risk team, as one signed document.
 * Shared by the server (which builds and signs it), scripts/incident-verify.ts (which checks a saved
 * file) and the web app's printable page. Types the server adds later (new event types, channels,
 * statuses) are plain strings here on purpose: a record of an alert shelved or responded to must still
 * parse, and a verifier built before those types existed must still verify it.
 */

export const INCIDENT_RECORD_FORMAT = 'clarion.incident-record.v1';

export const incidentRecordInput = z.object({ alertId: zId });

const json = z.json();

/** Where an entry sits in the hospital's audit hash chain (server/audit/chain.ts). */
export const auditRefSchema = z.object({ chainId: z.string(), seq: z.number().int(), hash: z.string() });

/** An audit_logs row, every column the chain hash covers, timestamps to the microsecond as hashed. */
export const incidentAuditEntrySchema = z.object({
  id: z.string(),
  chainId: z.string(),
  seq: z.number().int().positive(),
  userId: z.string().nullable(),
  hospitalId: z.string().nullable(),
  action: z.string(),
  resource: z.string().nullable(),
  resourceId: z.string().nullable(),
  outcome: z.enum(['success', 'failure']),
  ipAddress: z.string().nullable(),
  userAgent: z.string().nullable(),
  sessionId: z.string().nullable(),
  metadata: json.nullable(),
  /** `YYYY-MM-DDTHH:MM:SS.ffffffZ`, exactly the text the hash covers. */
  timestamp: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/),
  retentionUntil: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/),
  prevHash: z.string(),
  hash: z.string(),
});
export type IncidentAuditEntry = z.infer<typeof incidentAuditEntrySchema>;

export const incidentEventSchema = z.object({
  id: z.string(),
  type: z.string(),
  occurredAt: zIso,
  actorId: z.string().nullable(),
  escalationLevel: z.number().int(),
  detail: json.nullable(),
  /** The alert after this change, exactly as subscribers received it. */
  alert: z.record(z.string(), json),
  /** The audit row written with this event, when there is one. */
  audit: auditRefSchema.nullable(),
});

export const incidentPageSchema = z.object({
  id: z.string(),
  userId: z.string(),
  level: z.number().int(),
  target: z.string(),
  reason: z.string(),
  targetDetail: json.nullable(),
  pagedAt: zIso,
  deliveredAt: zIso.nullable(),
  readAt: zIso.nullable(),
  respondedAt: zIso.nullable(),
  response: z.string().nullable(),
  /** A decline's reason, from the person's `declined` event. */
  declineReason: z.string().nullable(),
});

export const incidentAttemptSchema = z.object({
  id: z.string(),
  pageId: z.string(),
  userId: z.string(),
  channel: z.string(),
  step: z.number().int(),
  /** "+1•••••0123": masked as the audit log keeps it; null once the contact was removed. */
  address: z.string().nullable(),
  status: z.string(),
  tries: z.number().int(),
  providerId: z.string().nullable(),
  error: z.string().nullable(),
  dueAt: zIso,
  sentAt: zIso.nullable(),
  deliveredAt: zIso.nullable(),
  answeredAt: zIso.nullable(),
  answer: z.string().nullable(),
  createdAt: zIso,
  updatedAt: zIso,
});

export const incidentReceiptSchema = z.object({ userId: z.string(), sessionId: z.string(), deliveredAt: zIso, seenAt: zIso.nullable() });

export const incidentEscalationSchema = z.object({
  id: z.string(),
  fromLevel: z.number().int(),
  toLevel: z.number().int(),
  reason: z.string(),
  escalatedBy: z.string().nullable(),
  escalatedAt: zIso,
});

export const incidentPersonSchema = z.object({ id: z.string(), name: z.string(), role: z.string() });

/** Who signed: the public half of INCIDENT_SIGNING_KEY, so anyone can verify without asking us. */
export const incidentSigningSchema = z.object({
  algorithm: z.literal('Ed25519'),
  /** First 16 hex digits of SHA-256 over the public key's SPKI DER. */
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  /** SPKI DER, base64. */
  publicKey: z.string().min(1),
});

export const incidentRecordSchema = z.object({
  format: z.literal(INCIDENT_RECORD_FORMAT),
  generatedAt: zIso,
  generatedBy: incidentPersonSchema,
  hospital: z.object({ id: z.string(), name: z.string(), timezone: z.string() }),
  alert: alertSchema,
  people: z.array(incidentPersonSchema),
  events: z.array(incidentEventSchema),
  escalations: z.array(incidentEscalationSchema),
  pages: z.array(incidentPageSchema),
  attempts: z.array(incidentAttemptSchema),
  receipts: z.array(incidentReceiptSchema),
  audit: z.array(incidentAuditEntrySchema),
  /** Ed25519 over the canonical JSON (RFC 8785 order) of the whole record without `signature.value`. */
  signature: incidentSigningSchema.extend({ value: z.string().min(1) }),
});
export type IncidentRecord = z.infer<typeof incidentRecordSchema>;

export const incidentRecordOutput = z.object({
  /** The signed document exactly as signed: what "Download" saves and incident:verify reads. */
  json: z.string(),
  /** SHA-256 (hex) of `json`, also kept in the export's audit row. */
  sha256: z.string(),
  fileName: z.string(),
  record: incidentRecordSchema,
});
