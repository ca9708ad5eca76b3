ALTER TABLE "alerts" ADD COLUMN "last_raised_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
UPDATE "alerts" SET "last_raised_at" = "created_at";--> statement-breakpoint
DROP INDEX "alerts_dedup_idx";--> statement-breakpoint
CREATE INDEX "alerts_dedup_idx" ON "alerts" USING btree ("hospital_id","department_id","alert_type",lower(btrim("title")),"room_number","last_raised_at") WHERE "alerts"."status" IN ('active', 'acknowledged');
