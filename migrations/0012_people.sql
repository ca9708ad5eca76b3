-- People issue: on-call schedules, care assignments, pages (drizzle-kit generated, plus the settings trigger at the end).
CREATE TYPE "public"."page_response" AS ENUM('acknowledged', 'declined');--> statement-breakpoint
ALTER TYPE "public"."alert_event_type" ADD VALUE IF NOT EXISTS 'paged';--> statement-breakpoint
ALTER TYPE "public"."alert_event_type" ADD VALUE IF NOT EXISTS 'coverage_gap';--> statement-breakpoint
ALTER TYPE "public"."escalation_reason" ADD VALUE IF NOT EXISTS 'coverage_gap';--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_hospital_id_key" UNIQUE("hospital_id","id");--> statement-breakpoint
CREATE TABLE "alert_level_pagings" (
	"alert_id" text NOT NULL,
	"level" integer NOT NULL,
	"hospital_id" text NOT NULL,
	"paged_count" integer NOT NULL,
	"resolved_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "alert_level_pagings_alert_id_level_pk" PRIMARY KEY("alert_id","level")
);
--> statement-breakpoint
CREATE TABLE "alert_pages" (
	"id" text PRIMARY KEY DEFAULT uuid_v7() NOT NULL,
	"hospital_id" text NOT NULL,
	"alert_id" text NOT NULL,
	"user_id" text NOT NULL,
	"level" integer NOT NULL,
	"target" text NOT NULL,
	"target_detail" jsonb,
	"paged_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone,
	"read_at" timestamp with time zone,
	"responded_at" timestamp with time zone,
	"response" "page_response",
	CONSTRAINT "alert_pages_alert_level_user_key" UNIQUE("alert_id","level","user_id"),
	CONSTRAINT "alert_pages_level_nonneg" CHECK ("alert_pages"."level" >= 0),
	CONSTRAINT "alert_pages_response_consistent" CHECK (("alert_pages"."response" IS NULL) = ("alert_pages"."responded_at" IS NULL))
);
--> statement-breakpoint
CREATE TABLE "care_assignments" (
	"id" text PRIMARY KEY DEFAULT uuid_v7() NOT NULL,
	"hospital_id" text NOT NULL,
	"department_id" text NOT NULL,
	"user_id" text NOT NULL,
	"rooms" text[] DEFAULT '{}'::text[] NOT NULL,
	"is_charge" boolean DEFAULT false NOT NULL,
	"starts_at" timestamp with time zone DEFAULT now() NOT NULL,
	"until" timestamp with time zone NOT NULL,
	"replaced_at" timestamp with time zone,
	"assigned_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "care_assignments_window" CHECK ("care_assignments"."until" > "care_assignments"."starts_at")
);
--> statement-breakpoint
CREATE TABLE "schedule_overrides" (
	"id" text PRIMARY KEY DEFAULT uuid_v7() NOT NULL,
	"hospital_id" text NOT NULL,
	"schedule_id" text NOT NULL,
	"user_id" text NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"reason" text,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "schedule_overrides_window" CHECK ("schedule_overrides"."ends_at" > "schedule_overrides"."starts_at")
);
--> statement-breakpoint
CREATE TABLE "schedule_participants" (
	"schedule_id" text NOT NULL,
	"hospital_id" text NOT NULL,
	"position" integer NOT NULL,
	"user_id" text NOT NULL,
	CONSTRAINT "schedule_participants_schedule_id_position_pk" PRIMARY KEY("schedule_id","position"),
	CONSTRAINT "schedule_participants_position_nonneg" CHECK ("schedule_participants"."position" >= 0)
);
--> statement-breakpoint
CREATE TABLE "schedules" (
	"id" text PRIMARY KEY DEFAULT uuid_v7() NOT NULL,
	"hospital_id" text NOT NULL,
	"name" text NOT NULL,
	"timezone" text,
	"starts_at" timestamp with time zone NOT NULL,
	"shift_hours" integer NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "schedules_hospital_id_key" UNIQUE("hospital_id","id"),
	CONSTRAINT "schedules_hospital_name_key" UNIQUE("hospital_id","name"),
	CONSTRAINT "schedules_shift_hours_range" CHECK ("schedules"."shift_hours" BETWEEN 1 AND 336),
	CONSTRAINT "schedules_name_not_blank" CHECK (length(btrim("schedules"."name")) > 0)
);
--> statement-breakpoint
ALTER TABLE "departments" ADD COLUMN "rooms" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "alert_level_pagings" ADD CONSTRAINT "alert_level_pagings_alert_id_alerts_id_fk" FOREIGN KEY ("alert_id") REFERENCES "public"."alerts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_level_pagings" ADD CONSTRAINT "alert_level_pagings_hospital_id_hospitals_id_fk" FOREIGN KEY ("hospital_id") REFERENCES "public"."hospitals"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_pages" ADD CONSTRAINT "alert_pages_alert_id_alerts_id_fk" FOREIGN KEY ("alert_id") REFERENCES "public"."alerts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_pages" ADD CONSTRAINT "alert_pages_user_fk" FOREIGN KEY ("hospital_id","user_id") REFERENCES "public"."users"("hospital_id","id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "care_assignments" ADD CONSTRAINT "care_assignments_assigned_by_users_id_fk" FOREIGN KEY ("assigned_by") REFERENCES "public"."users"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "care_assignments" ADD CONSTRAINT "care_assignments_department_fk" FOREIGN KEY ("hospital_id","department_id") REFERENCES "public"."departments"("hospital_id","id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "care_assignments" ADD CONSTRAINT "care_assignments_user_fk" FOREIGN KEY ("hospital_id","user_id") REFERENCES "public"."users"("hospital_id","id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "schedule_overrides" ADD CONSTRAINT "schedule_overrides_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "schedule_overrides" ADD CONSTRAINT "schedule_overrides_schedule_fk" FOREIGN KEY ("hospital_id","schedule_id") REFERENCES "public"."schedules"("hospital_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "schedule_overrides" ADD CONSTRAINT "schedule_overrides_user_fk" FOREIGN KEY ("hospital_id","user_id") REFERENCES "public"."users"("hospital_id","id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "schedule_participants" ADD CONSTRAINT "schedule_participants_schedule_fk" FOREIGN KEY ("hospital_id","schedule_id") REFERENCES "public"."schedules"("hospital_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "schedule_participants" ADD CONSTRAINT "schedule_participants_user_fk" FOREIGN KEY ("hospital_id","user_id") REFERENCES "public"."users"("hospital_id","id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "schedules" ADD CONSTRAINT "schedules_hospital_id_hospitals_id_fk" FOREIGN KEY ("hospital_id") REFERENCES "public"."hospitals"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "schedules" ADD CONSTRAINT "schedules_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "alert_pages_user_idx" ON "alert_pages" USING btree ("user_id","alert_id");--> statement-breakpoint
CREATE INDEX "care_assignments_current_idx" ON "care_assignments" USING btree ("hospital_id","department_id","until") WHERE "care_assignments"."replaced_at" IS NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "care_assignments_one_current_key" ON "care_assignments" USING btree ("department_id","user_id") WHERE "care_assignments"."replaced_at" IS NULL;--> statement-breakpoint
CREATE INDEX "schedule_overrides_window_idx" ON "schedule_overrides" USING btree ("schedule_id","starts_at","ends_at");--> statement-breakpoint
CREATE INDEX "schedule_participants_user_idx" ON "schedule_participants" USING btree ("user_id");--> statement-breakpoint--> statement-breakpoint
-- settings.escalation.<priority>.targets may name users and schedules: they must be this hospital's.
-- jsonb cannot carry a foreign key, so a trigger is the database's half of "never another hospital's users".
CREATE OR REPLACE FUNCTION clarion_check_settings_targets() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  t jsonb;
BEGIN
  FOR t IN SELECT jsonb_path_query(NEW.settings, '$.escalation.*.targets[*][*]') LOOP
    IF t->>'kind' = 'user' AND NOT EXISTS (SELECT 1 FROM users WHERE id = t->>'userId' AND hospital_id = NEW.id) THEN
      RAISE EXCEPTION 'escalation target user % is not in this hospital', t->>'userId' USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'hospitals_settings_target_user';
    END IF;
    IF t->>'kind' = 'schedule' AND NOT EXISTS (SELECT 1 FROM schedules WHERE id = t->>'scheduleId' AND hospital_id = NEW.id) THEN
      RAISE EXCEPTION 'escalation target schedule % is not in this hospital', t->>'scheduleId' USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'hospitals_settings_target_schedule';
    END IF;
  END LOOP;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER hospitals_settings_targets BEFORE INSERT OR UPDATE OF settings ON hospitals
  FOR EACH ROW EXECUTE FUNCTION clarion_check_settings_targets();
--> statement-breakpoint
-- A schedule named as a target is deactivated, never deleted, so settings never point at nothing.
CREATE OR REPLACE FUNCTION clarion_schedule_no_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'schedules are deactivated, not deleted' USING ERRCODE = 'restrict_violation';
END $$;
--> statement-breakpoint
CREATE TRIGGER schedules_no_delete BEFORE DELETE ON schedules FOR EACH ROW EXECUTE FUNCTION clarion_schedule_no_delete();
--> statement-breakpoint
-- One level of one alert paged, as one autocommit statement (DESIGN.md "The delivery engine": the
-- hospital lock is held only for the event/audit tail and the commit). Node resolves the targets to
-- people first (schedules need luxon); here, in order: the alert row FOR SHARE (an acknowledgement or
-- escalation committing meanwhile waits, or has won and nothing is paged), the guard (still active, still
-- at this level), the (alert, level) marker whose primary key lets one attempt through, the pages, then
-- under the hospital lock the `paged` (or, with nobody, `coverage_gap`) event and its audit row.
-- p: { alertId, level, recipients: [{ userId, target, detail }…], targets: [kind…] }.
-- Returns null when nothing was paged (guard or marker), else { event, version, gap }.
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
