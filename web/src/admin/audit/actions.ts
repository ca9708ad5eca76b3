/**
 * The audit actions Clarion writes (server/alerts/change.ts and the raise functions, server/auth,
 * server/accounts, server/users, server/hospitals, server/assignments, server/audit, server/exports), grouped for the
 * audit log's action filter. An action missing here can still be typed in the "Other action" field.
 */
export const auditActionGroups: [string, string[]][] = [
  ['Alerts', ['alert.created', 'alert.repeated', 'alert.updated', 'alert.acknowledged', 'alert.declined', 'alert.escalated', 'alert.reopened', 'alert.resolved', 'alert.cancelled', 'alert.expired', 'alert.paged', 'alert.coverage_gap', 'alert.escalation_stopped', 'alert.incident_record_exported']],
  ['Sign-in', ['auth.login', 'auth.logout', 'auth.lockout', 'auth.password_change', 'auth.backup_code_used', 'auth.2fa_setup', 'auth.2fa_enable', 'auth.2fa_disable']],
  ['Accounts', ['account.setup_link_issued', 'account.setup_link_emailed', 'account.setup_link_refused', 'account.setup_completed', 'account.admin_reset']],
  ['Users', ['user.created', 'user.bulk_created', 'user.updated', 'user.role_changed', 'user.deactivated', 'user.reactivated', 'user.unlocked', 'user.viewed']],
  ['Hospital', ['hospital.created', 'hospital.settings_updated', 'department.created', 'department.updated']],
  ['People', ['assignment.set']],
  ['Schedules', ['schedule.created', 'schedule.updated', 'schedule.override_added', 'schedule.override_removed']],
  ['Audit', ['audit.view', 'audit.report_generated', 'audit.export_requested', 'audit.export_downloaded', 'access.denied']],
];

/** A metadata reason code ("bad_password", "address_locked") as words. */
export function reasonText(code: unknown): string | null {
  if (typeof code !== 'string' || !code) return null;
  const words = code.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
