-- One alert's audit rows by id (the incident record, alarm issue), instead of a scan of the hospital's
-- rows since the raise.
CREATE INDEX "audit_alert_resource_idx" ON "audit_logs" USING btree ("resource_id") WHERE "audit_logs"."resource" = 'alert';