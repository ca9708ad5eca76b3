DROP INDEX IF EXISTS "alerts_dedup_idx";
DROP INDEX IF EXISTS "alerts_ack_deadline_idx";
DROP TABLE IF EXISTS "alert_receipts";
ALTER TABLE "hospitals" DROP COLUMN IF EXISTS "events_pruned_through";
ALTER TABLE "alerts" DROP COLUMN IF EXISTS "ack_deadline_at";
ALTER TABLE "alert_events" DROP COLUMN IF EXISTS "detail";
