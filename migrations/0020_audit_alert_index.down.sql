DROP INDEX IF EXISTS "audit_alert_resource_idx";
