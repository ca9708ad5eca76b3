import { alertResponseSchema } from '../alerts/report.js';
import { z } from 'zod';
import { auditOutcomes, roles } from '../db/enums.js';
import { zId, zIso, zText } from '../common/schemas.js';

/** A period with from ≤ to (both optional for log queries). */
const orderedPeriod = <T extends { from?: string; to?: string }>(v: T, ctx: z.RefinementCtx) => {
  if (v.from && v.to && Date.parse(v.from) > Date.parse(v.to)) {
    ctx.addIssue({ code: 'custom', path: ['to'], message: 'Must not be before "from"' });
  }
};

export const getLogsInput = z
  .object({
    userId: zId.optional(),
    action: zText(100).min(1).optional(),
    resource: zText(100).min(1).optional(),
    outcome: z.enum(auditOutcomes).optional(),
    from: zIso.optional(),
    to: zIso.optional(),
    /** Opaque: the nextCursor of the previous page. */
    cursor: z.string().min(1).max(200).optional(),
    limit: z.number().int().min(1).max(200).default(50),
  })
  .strict()
  .superRefine(orderedPeriod);
export type GetLogsInput = z.infer<typeof getLogsInput>;

export const auditLogRow = z.object({
  id: z.string(),
  seq: z.string(),
  userId: z.string().nullable(),
  userName: z.string().nullable(),
  action: z.string(),
  resource: z.string().nullable(),
  resourceId: z.string().nullable(),
  outcome: z.enum(auditOutcomes),
  ipAddress: z.string().nullable(),
  userAgent: z.string().nullable(),
  sessionId: z.string().nullable(),
  metadata: z.unknown().nullable(),
  /** ISO-8601 in UTC with the microseconds Postgres stores. */
  timestamp: zIso,
  hash: z.string(),
});
export type AuditLogRow = z.infer<typeof auditLogRow>;

export const getLogsOutput = z.object({ logs: z.array(auditLogRow), nextCursor: z.string().nullable() });

export const complianceReportInput = z.object({ from: zIso, to: zIso }).strict().superRefine(orderedPeriod);
export type ComplianceReportInput = z.infer<typeof complianceReportInput>;

const countBy = <K extends z.ZodType>(key: K) => z.array(z.object({ key, count: z.number().int() }));
const userRef = z.object({ id: z.string(), name: z.string(), email: z.string(), role: z.enum(roles) });

export const chainVerification = z.object({
  chainId: z.string(),
  /** null when verification did not finish in time (run `npm run audit:verify`). */
  verified: z.boolean().nullable(),
  rowsChecked: z.number().int(),
  firstBadSeq: z.string().nullable(),
  problem: z.string().nullable(),
});
export type ChainVerification = z.infer<typeof chainVerification>;

export const complianceReportOutput = z.object({
  period: z.object({ from: zIso, to: zIso }),
  generatedAt: zIso,
  activity: z.object({
    total: z.number().int(),
    byAction: z.array(z.object({ action: z.string(), success: z.number().int(), failure: z.number().int() })),
    byOutcome: countBy(z.enum(auditOutcomes)),
  }),
  authentication: z.object({
    failedLogins: z.object({ count: z.number().int(), byUser: z.array(z.object({ userId: z.string().nullable(), userName: z.string().nullable(), count: z.number().int() })) }),
    lockouts: z.object({ count: z.number().int(), byUser: z.array(z.object({ userId: z.string().nullable(), userName: z.string().nullable(), count: z.number().int() })) }),
  }),
  twoFactor: z.object({
    /** Active users without 2FA, per role. */
    withoutTwoFactorByRole: countBy(z.enum(roles)),
    activeUsers: z.number().int(),
  }),
  inactiveAccounts: z.object({
    inactiveDays: z.number().int(),
    /** Active accounts with no login for inactiveDays (never-used accounts count from their creation). */
    noRecentLogin: z.object({ count: z.number().int(), users: z.array(userRef.extend({ lastLoginAt: zIso.nullable() })) }),
    deactivated: z.object({ count: z.number().int(), users: z.array(userRef) }),
  }),
  // The links (audit_verify) and, when the key is at hand, the chain's HMAC anchors (server/audit/anchor.ts).
  chain: chainVerification.extend({ anchorsChecked: z.number().int() }),
  /** Time to acknowledge per department and priority, alerts by status, escalations by level, events per day. */
  alertResponse: alertResponseSchema,
});
export type ComplianceReport = z.infer<typeof complianceReportOutput>;

/**
 * An HMAC anchor of one chain's head (server/audit/anchor.ts): kept in audit_head_anchors, in every
 * export and in every backup manifest, and accepted by `npm run audit:verify -- --anchor FILE`.
 */
export const anchorSchema = z.object({
  chainId: z.string().min(1).max(64),
  seq: z.number().int().min(0),
  // The hash as stored (SHA-256 hex for every row the trigger wrote); signed, not re-derived, here.
  hash: z.string().min(1).max(128),
  anchoredAt: zIso,
  mac: z.string().regex(/^[0-9a-f]{64}$/),
});
export type Anchor = z.infer<typeof anchorSchema>;
