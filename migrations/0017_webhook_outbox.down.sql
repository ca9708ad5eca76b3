-- Back to 0016: no webhook outbox trigger.
DROP TRIGGER IF EXISTS alert_events_webhook_outbox ON alert_events;--> statement-breakpoint
DROP FUNCTION IF EXISTS clarion_webhook_outbox();--> statement-breakpoint
DROP INDEX IF EXISTS "webhooks_hospital_active_idx";
