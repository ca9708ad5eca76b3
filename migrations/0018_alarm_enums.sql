-- Alarm management (issue 19): the new statuses and event types, alone in their migration because a
-- value added to an enum cannot be used in the transaction that adds it (0019 uses them).
ALTER TYPE "public"."alert_event_type" ADD VALUE IF NOT EXISTS 'shelved';--> statement-breakpoint
ALTER TYPE "public"."alert_event_type" ADD VALUE IF NOT EXISTS 'unshelved';--> statement-breakpoint
ALTER TYPE "public"."alert_event_type" ADD VALUE IF NOT EXISTS 'suppressed';--> statement-breakpoint
ALTER TYPE "public"."alert_event_type" ADD VALUE IF NOT EXISTS 'responding';--> statement-breakpoint
ALTER TYPE "public"."alert_status" ADD VALUE IF NOT EXISTS 'shelved';--> statement-breakpoint
ALTER TYPE "public"."alert_status" ADD VALUE IF NOT EXISTS 'suppressed';