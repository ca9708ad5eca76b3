DROP FUNCTION IF EXISTS audit_verify(text);
DROP FUNCTION IF EXISTS audit_purge(text, integer);
REVOKE ALL ON audit_logs FROM clarion_audit_purger;
REVOKE ALL ON audit_chain_anchors FROM clarion_audit_purger;
DROP TRIGGER IF EXISTS audit_logs_no_truncate ON audit_logs;
DROP TRIGGER IF EXISTS audit_logs_append_only ON audit_logs;
DROP FUNCTION IF EXISTS audit_logs_guard();
DROP TRIGGER IF EXISTS audit_logs_chain ON audit_logs;
DROP FUNCTION IF EXISTS audit_logs_chain();
DROP FUNCTION IF EXISTS audit_row_hash(audit_logs);
-- The clarion_audit_purger role is cluster-wide and shared by other databases: never dropped.
