-- Channels issue, part 2: the outbox of attempts to reach each paged person (drizzle-kit generated, plus the page function).
CREATE TYPE "public"."attempt_status" AS ENUM('queued', 'sending', 'sent', 'delivered', 'read', 'responded', 'failed', 'cancelled');--> statement-breakpoint
CREATE TABLE "page_attempts" (
	"id" text PRIMARY KEY DEFAULT uuid_v7() NOT NULL,
	"hospital_id" text NOT NULL,
	"page_id" text NOT NULL,
	"alert_id" text NOT NULL,
	"user_id" text NOT NULL,
	"contact_id" text,
	"channel" "notification_channel" NOT NULL,
	"step" integer NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"status" "attempt_status" DEFAULT 'queued' NOT NULL,
	"tries" integer DEFAULT 0 NOT NULL,
	"provider_id" text,
	"error" text,
	"sent_at" timestamp with time zone,
	"delivered_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "page_attempts_page_step_contact_key" UNIQUE("page_id","step","contact_id"),
	CONSTRAINT "page_attempts_step_nonneg" CHECK ("page_attempts"."step" >= 0)
);
--> statement-breakpoint
ALTER TABLE "page_attempts" ADD CONSTRAINT "page_attempts_page_id_alert_pages_id_fk" FOREIGN KEY ("page_id") REFERENCES "public"."alert_pages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "page_attempts" ADD CONSTRAINT "page_attempts_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "page_attempts_due_idx" ON "page_attempts" USING btree ("due_at") WHERE "page_attempts"."status" IN ('queued', 'sending');--> statement-breakpoint
CREATE INDEX "page_attempts_page_idx" ON "page_attempts" USING btree ("page_id","step");--> statement-breakpoint
CREATE INDEX "page_attempts_provider_idx" ON "page_attempts" USING btree ("provider_id") WHERE "page_attempts"."provider_id" IS NOT NULL;--> statement-breakpoint
-- clarion_page_level (0012) now also writes each recipient's outbox rows.
CREATE OR REPLACE FUNCTION clarion_page_level(p jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_id text := p->>'alertId';
  v_level integer := (p->>'level')::integer;
  v_people jsonb := coalesce(p->'recipients', '[]'::jsonb);
  v_gap boolean := jsonb_array_length(coalesce(p->'recipients', '[]'::jsonb)) = 0;
  v_detail jsonb;
  a record;
  ev alert_events;
BEGIN
  SELECT hospital_id, department_id, status, escalation_level, version INTO a FROM alerts WHERE id = v_id FOR SHARE;
  IF NOT FOUND OR a.status <> 'active' OR a.escalation_level <> v_level THEN
    RETURN NULL;
  END IF;
  INSERT INTO alert_level_pagings (alert_id, level, hospital_id, paged_count)
  VALUES (v_id, v_level, a.hospital_id, jsonb_array_length(v_people)) ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  INSERT INTO alert_pages (hospital_id, alert_id, user_id, level, target, target_detail)
  SELECT a.hospital_id, v_id, r->>'userId', v_level, r->>'target', nullif(r->'detail', 'null'::jsonb)
  FROM jsonb_array_elements(v_people) r
  ON CONFLICT DO NOTHING;
  -- The outbox, in the same statement as the pages: each recipient's steps (computed by the pager from
  -- their rules and verified contacts), due at now + delay. The join keeps only a verified contact of
  -- that very person in this hospital, whatever the caller passed.
  INSERT INTO page_attempts (hospital_id, page_id, alert_id, user_id, contact_id, channel, step, due_at)
  SELECT a.hospital_id, ap.id, v_id, ap.user_id, c.id, c.channel, (s->>'step')::integer,
         now() + make_interval(secs => (s->>'delaySeconds')::integer)
  FROM jsonb_array_elements(v_people) r
  CROSS JOIN LATERAL jsonb_array_elements(coalesce(r->'steps', '[]'::jsonb)) s
  JOIN alert_pages ap ON ap.alert_id = v_id AND ap.level = v_level AND ap.user_id = r->>'userId'
  JOIN contacts c ON c.id = s->>'contactId' AND c.user_id = ap.user_id AND c.hospital_id = a.hospital_id AND c.verified_at IS NOT NULL
  ON CONFLICT DO NOTHING;
  v_detail := jsonb_build_object('level', v_level,
    'userIds', (SELECT coalesce(jsonb_agg(r->'userId'), '[]'::jsonb) FROM jsonb_array_elements(v_people) r),
    'targets', coalesce(p->'targets', '[]'::jsonb));
  PERFORM clarion_hospital_lock(a.hospital_id);
  INSERT INTO alert_events (hospital_id, department_id, alert_id, type, actor_id, alert, detail, escalation_level)
  VALUES (a.hospital_id, a.department_id, v_id, (CASE WHEN v_gap THEN 'coverage_gap' ELSE 'paged' END)::alert_event_type,
          NULL, clarion_alert_json(v_id), v_detail, v_level)
  RETURNING * INTO ev;
  INSERT INTO audit_logs (user_id, hospital_id, action, resource, resource_id, outcome, ip_address, user_agent, session_id, metadata)
  VALUES (NULL, a.hospital_id, CASE WHEN v_gap THEN 'alert.coverage_gap' ELSE 'alert.paged' END, 'alert', v_id, 'success',
          NULL, 'clarion-worker', NULL, v_detail || jsonb_build_object('eventId', ev.id::text));
  RETURN jsonb_build_object('version', a.version, 'gap', v_gap,
    'event', jsonb_build_object('id', ev.id::text, 'type', ev.type, 'alert', ev.alert, 'actorId', ev.actor_id,
                                'occurredAt', clarion_iso(ev.occurred_at), 'detail', ev.detail));
END $$;
