-- Channels issue, part 3: answers from the device, recorded on the attempt they came from, and how long its response link works (drizzle-kit generated).
ALTER TABLE "page_attempts" ADD COLUMN "token_expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "page_attempts" ADD COLUMN "answered_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "page_attempts" ADD COLUMN "answer" "page_response";--> statement-breakpoint
ALTER TABLE "page_attempts" ADD CONSTRAINT "page_attempts_answer_consistent" CHECK (("page_attempts"."answer" IS NULL) = ("page_attempts"."answered_at" IS NULL));