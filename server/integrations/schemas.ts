import { z } from 'zod';
import { zId, zIso } from '../common/schemas.js';

export const apiKeyScopes = ['alerts:write', 'alerts:read'] as const;
export type ApiKeyScope = (typeof apiKeyScopes)[number];

const keyName = z.string().trim().min(1, 'Give the key a name').max(80, 'At most 80 characters');

export const createKeyInput = z.object({
  name: keyName,
  scopes: z.array(z.enum(apiKeyScopes)).min(1, 'Choose at least one scope').max(apiKeyScopes.length),
  expiresAt: zIso.refine((v) => Date.parse(v) > Date.now(), 'Must be in the future').optional(),
  /** A feed that should send at least this often (silence past it raises a system alert). */
  heartbeatSeconds: z.number().int().min(30).max(86_400).optional(),
});
export type CreateKeyInput = z.infer<typeof createKeyInput>;

/** What a list shows: never the key, only its first characters. */
export const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  scopes: z.array(z.enum(apiKeyScopes)),
  keyPrefix: z.string(),
  expiresAt: zIso.nullable(),
  revokedAt: zIso.nullable(),
  lastUsedAt: zIso.nullable(),
  heartbeatSeconds: z.number().int().nullable(),
  createdAt: zIso,
});
export type ApiKey = z.infer<typeof apiKeySchema>;

/** The key itself appears here once, at creation; Clarion keeps only its hash. */
export const createKeyOutput = apiKeySchema.extend({ key: z.string() });
export const listKeysOutput = z.object({ keys: z.array(apiKeySchema) });
export const keyIdInput = z.object({ keyId: zId });

// HL7 v2 sources (server/integrations/hl7): a monitor gateway or nurse call system, named on the wire by MSH-4.
const pointOfCare = z.string().trim().min(1).max(80).regex(/^[^|^~\\&\r\n]+$/, 'No HL7 delimiters (| ^ ~ \\ &)');
export const createHl7SourceInput = z.object({
  name: keyName,
  /** MSH-4.1 exactly as the sender puts it; unique across Clarion (it picks the hospital). */
  sendingFacility: z.string().trim().min(1, 'Required').max(180).regex(/^[^|^~\\&\r\n]+$/, 'No HL7 delimiters (| ^ ~ \\ &)'),
  /** PV1-3.1 point of care → one of this hospital's departments. */
  departments: z.record(pointOfCare, zId).refine((d) => Object.keys(d).length >= 1 && Object.keys(d).length <= 200, 'Map 1 to 200 points of care'),
  heartbeatSeconds: z.number().int().min(30).max(86_400).optional(),
});
export type CreateHl7SourceInput = z.infer<typeof createHl7SourceInput>;

export const hl7SourceSchema = z.object({
  id: z.string(),
  name: z.string(),
  sendingFacility: z.string(),
  departments: z.record(z.string(), z.string()),
  heartbeatSeconds: z.number().int().nullable(),
  lastMessageAt: zIso.nullable(),
  isActive: z.boolean(),
  createdAt: zIso,
});
export type Hl7Source = z.infer<typeof hl7SourceSchema>;
export const listHl7SourcesOutput = z.object({ sources: z.array(hl7SourceSchema) });
export const hl7SourceIdInput = z.object({ sourceId: zId });
