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
