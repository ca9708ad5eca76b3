-- Failed password checks per (subject, client address) and per subject (ip '*'): issue 13 item 14.
CREATE TABLE "login_failures" (
	"subject" text NOT NULL,
	"ip" text NOT NULL,
	"failures" integer DEFAULT 0 NOT NULL,
	"last_failed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_until" timestamp with time zone,
	CONSTRAINT "login_failures_pkey" PRIMARY KEY("subject","ip")
);
--> statement-breakpoint
CREATE INDEX "login_failures_last_failed_idx" ON "login_failures" USING btree ("last_failed_at");
