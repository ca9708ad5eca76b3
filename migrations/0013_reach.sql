-- Channels issue, part 1: where a person can be reached (contacts, verified) and their own rules (drizzle-kit generated).
CREATE TYPE "public"."notification_channel" AS ENUM('push', 'sms', 'voice', 'email', 'webhook');--> statement-breakpoint
CREATE TABLE "contacts" (
	"id" text PRIMARY KEY DEFAULT uuid_v7() NOT NULL,
	"hospital_id" text NOT NULL,
	"user_id" text NOT NULL,
	"channel" "notification_channel" NOT NULL,
	"address" text NOT NULL,
	"push_keys" jsonb,
	"verified_at" timestamp with time zone,
	"code_hash" text,
	"code_expires_at" timestamp with time zone,
	"code_attempts" integer DEFAULT 0 NOT NULL,
	"code_sent_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "contacts_user_channel_address_key" UNIQUE("user_id","channel","address"),
	CONSTRAINT "contacts_address_length" CHECK (length("contacts"."address") BETWEEN 3 AND 2048),
	CONSTRAINT "contacts_push_keys" CHECK (("contacts"."channel" = 'push') = ("contacts"."push_keys" IS NOT NULL))
);
--> statement-breakpoint
CREATE TABLE "notification_rules" (
	"user_id" text PRIMARY KEY NOT NULL,
	"hospital_id" text NOT NULL,
	"rules" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "contacts" ADD CONSTRAINT "contacts_user_fk" FOREIGN KEY ("hospital_id","user_id") REFERENCES "public"."users"("hospital_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notification_rules" ADD CONSTRAINT "notification_rules_user_fk" FOREIGN KEY ("hospital_id","user_id") REFERENCES "public"."users"("hospital_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "contacts_user_idx" ON "contacts" USING btree ("hospital_id","user_id");