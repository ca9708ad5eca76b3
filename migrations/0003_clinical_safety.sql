CREATE TABLE "alert_receipts" (
	"alert_id" text NOT NULL,
	"session_id" text NOT NULL,
	"hospital_id" text NOT NULL,
	"user_id" text NOT NULL,
	"delivered_at" timestamp with time zone DEFAULT now() NOT NULL,
	"seen_at" timestamp with time zone,
	CONSTRAINT "alert_receipts_alert_id_session_id_pk" PRIMARY KEY("alert_id","session_id")
);
--> statement-breakpoint
ALTER TABLE "alert_events" ADD COLUMN "detail" jsonb;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "ack_deadline_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "hospitals" ADD COLUMN "events_pruned_through" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "alert_receipts" ADD CONSTRAINT "alert_receipts_alert_id_alerts_id_fk" FOREIGN KEY ("alert_id") REFERENCES "public"."alerts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_receipts" ADD CONSTRAINT "alert_receipts_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_receipts" ADD CONSTRAINT "alert_receipts_hospital_id_hospitals_id_fk" FOREIGN KEY ("hospital_id") REFERENCES "public"."hospitals"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_receipts" ADD CONSTRAINT "alert_receipts_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "alerts_ack_deadline_idx" ON "alerts" USING btree ("ack_deadline_at") WHERE "alerts"."status" = 'acknowledged';--> statement-breakpoint
CREATE INDEX "alerts_dedup_idx" ON "alerts" USING btree ("hospital_id","department_id","alert_type","room_number") WHERE "alerts"."status" IN ('active', 'acknowledged');