import { z } from 'zod';
import { anchorSchema } from '../audit/schemas.js';
import { zId, zIso } from '../common/schemas.js';
import { auditOutcomes, exportFormats, exportStatuses } from '../db/enums.js';

export const exportFiltersSchema = z.object({
  from: zIso.optional(),
  to: zIso.optional(),
  userId: zId.optional(),
  action: z.string().trim().min(1).max(100).optional(),
  resource: z.string().trim().min(1).max(100).optional(),
  outcome: z.enum(auditOutcomes).optional(),
});
export type ExportFilters = z.infer<typeof exportFiltersSchema>;

export const exportLogsInput = exportFiltersSchema.extend({ format: z.enum(exportFormats) });

export const exportSchema = z.object({
  id: z.string(),
  status: z.enum(exportStatuses),
  format: z.enum(exportFormats),
  progress: z.number().int().min(0).max(100),
  rowCount: z.number().int(),
  sha256: z.string().nullable(),
  filters: exportFiltersSchema,
  error: z.string().nullable(),
  createdAt: zIso,
  completedAt: zIso.nullable(),
  expiresAt: zIso.nullable(),
  downloadUrl: z.string().nullable(),
  /** The HMAC anchor of the audit chain's head at the export's snapshot: keep it with the file (audit:verify --anchor). */
  anchor: anchorSchema.nullable(),
});
export type ExportView = z.infer<typeof exportSchema>;
