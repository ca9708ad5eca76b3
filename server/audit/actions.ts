/**
 * Audit action names that the compliance report counts. They are the ones the auth service writes
 * (authAuditActions in server/auth/schemas.ts): keep the two in step, or a renamed action silently
 * drops out of the report.
 */
export const FAILED_LOGIN_ACTIONS = ['auth.login'] as const; // counted with outcome 'failure'
export const LOCKOUT_ACTIONS = ['auth.lockout'] as const;
export const REPORT_GENERATED_ACTION = 'audit.report_generated';
