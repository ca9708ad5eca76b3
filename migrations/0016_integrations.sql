-- Integrations issue: API keys, idempotency, HL7 sources, outbound webhooks and their outbox (drizzle-kit generated);
-- alerts gain their source and the sender's own id, which the raise function now writes and folds repeats by.
CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY DEFAULT uuid_v7() NOT NULL,
	"hospital_id" text NOT NULL,
	"name" text NOT NULL,
	"scopes" text[] NOT NULL,
	"key_hash" text NOT NULL,
	"key_prefix" text NOT NULL,
	"expires_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	"heartbeat_seconds" integer,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "api_keys_hash_key" UNIQUE("key_hash"),
	CONSTRAINT "api_keys_hospital_name_key" UNIQUE("hospital_id","name"),
	CONSTRAINT "api_keys_hospital_id_key" UNIQUE("hospital_id","id"),
	CONSTRAINT "api_keys_name_length" CHECK (length(btrim("api_keys"."name")) BETWEEN 1 AND 80),
	CONSTRAINT "api_keys_scopes" CHECK ("api_keys"."scopes" <@ ARRAY['alerts:write', 'alerts:read']::text[] AND cardinality("api_keys"."scopes") > 0),
	CONSTRAINT "api_keys_heartbeat" CHECK ("api_keys"."heartbeat_seconds" IS NULL OR "api_keys"."heartbeat_seconds" BETWEEN 30 AND 86400)
);
--> statement-breakpoint
CREATE TABLE "hl7_sources" (
	"id" text PRIMARY KEY DEFAULT uuid_v7() NOT NULL,
	"hospital_id" text NOT NULL,
	"name" text NOT NULL,
	"sending_facility" text NOT NULL,
	"departments" jsonb NOT NULL,
	"heartbeat_seconds" integer,
	"last_message_at" timestamp with time zone,
	"is_active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "hl7_sources_facility_key" UNIQUE("sending_facility"),
	CONSTRAINT "hl7_sources_hospital_name_key" UNIQUE("hospital_id","name"),
	CONSTRAINT "hl7_sources_name_length" CHECK (length(btrim("hl7_sources"."name")) BETWEEN 1 AND 80),
	CONSTRAINT "hl7_sources_heartbeat" CHECK ("hl7_sources"."heartbeat_seconds" IS NULL OR "hl7_sources"."heartbeat_seconds" BETWEEN 30 AND 86400)
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"hospital_id" text NOT NULL,
	"api_key_id" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"status" integer,
	"response" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_api_key_id_key_pk" PRIMARY KEY("api_key_id","key"),
	CONSTRAINT "idempotency_keys_key_length" CHECK (length("idempotency_keys"."key") BETWEEN 1 AND 255)
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"id" text PRIMARY KEY DEFAULT uuid_v7() NOT NULL,
	"hospital_id" text NOT NULL,
	"webhook_id" text NOT NULL,
	"event_id" bigint,
	"event_type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_status" integer,
	"last_error" text,
	"delivered_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_deliveries_event_key" UNIQUE("webhook_id","event_id"),
	CONSTRAINT "webhook_deliveries_status" CHECK ("webhook_deliveries"."status" IN ('pending', 'sending', 'delivered', 'dead'))
);
--> statement-breakpoint
CREATE TABLE "webhooks" (
	"id" text PRIMARY KEY DEFAULT uuid_v7() NOT NULL,
	"hospital_id" text NOT NULL,
	"url" text NOT NULL,
	"events" text[] NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhooks_hospital_id_key" UNIQUE("hospital_id","id"),
	CONSTRAINT "webhooks_url_length" CHECK (length("webhooks"."url") BETWEEN 8 AND 2048),
	CONSTRAINT "webhooks_events" CHECK (cardinality("webhooks"."events") > 0)
);
--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "source" text DEFAULT 'console' NOT NULL;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "external_id" text;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_hospital_id_hospitals_id_fk" FOREIGN KEY ("hospital_id") REFERENCES "public"."hospitals"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hl7_sources" ADD CONSTRAINT "hl7_sources_hospital_id_hospitals_id_fk" FOREIGN KEY ("hospital_id") REFERENCES "public"."hospitals"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_api_key_fk" FOREIGN KEY ("hospital_id","api_key_id") REFERENCES "public"."api_keys"("hospital_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_webhook_fk" FOREIGN KEY ("hospital_id","webhook_id") REFERENCES "public"."webhooks"("hospital_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhooks" ADD CONSTRAINT "webhooks_hospital_id_hospitals_id_fk" FOREIGN KEY ("hospital_id") REFERENCES "public"."hospitals"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_idx" ON "idempotency_keys" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries" USING btree ("next_attempt_at") WHERE "webhook_deliveries"."status" IN ('pending', 'sending');--> statement-breakpoint
CREATE INDEX "webhook_deliveries_webhook_idx" ON "webhook_deliveries" USING btree ("webhook_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "alerts_open_external_key" ON "alerts" USING btree ("hospital_id","source","external_id") WHERE "alerts"."external_id" IS NOT NULL AND "alerts"."status" IN ('active', 'acknowledged');--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_source_length" CHECK (length("alerts"."source") BETWEEN 1 AND 120);--> statement-breakpoint
CREATE OR REPLACE FUNCTION clarion_alert_json(p_id text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', a.id, 'hospitalId', a.hospital_id, 'departmentId', a.department_id,
    'departmentCode', d.code, 'departmentName', d.name,
    'title', a.title, 'description', a.description, 'priority', a.priority, 'alertType', a.alert_type,
    'roomNumber', a.room_number, 'status', a.status, 'escalationLevel', a.escalation_level,
    'version', a.version, 'repeatCount', a.repeat_count,
    'nextEscalationAt', clarion_iso(a.next_escalation_at), 'ackDeadlineAt', clarion_iso(a.ack_deadline_at),
    'createdBy', a.created_by, 'createdByName', cr.name,
    'acknowledgedBy', a.acknowledged_by, 'acknowledgedByName', ak.name, 'acknowledgedAt', clarion_iso(a.acknowledged_at),
    'resolvedBy', a.resolved_by, 'resolvedByName', rs.name, 'resolvedAt', clarion_iso(a.resolved_at),
    'cancelledBy', a.cancelled_by, 'cancelledAt', clarion_iso(a.cancelled_at),
    'createdAt', clarion_iso(a.created_at), 'updatedAt', clarion_iso(a.updated_at), 'expiresAt', clarion_iso(a.expires_at),
    'source', a.source, 'externalId', a.external_id)
  FROM alerts a
  JOIN departments d ON d.id = a.department_id
  LEFT JOIN users cr ON cr.id = a.created_by
  LEFT JOIN users ak ON ak.id = a.acknowledged_by
  LEFT JOIN users rs ON rs.id = a.resolved_by
  WHERE a.id = p_id;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION clarion_raise_alert(r jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_hospital text := r->>'hospitalId';
  v_dept text := r->>'departmentId';
  v_type text := r->>'alertType';
  v_room text := r->>'roomNumber';
  v_title text := lower(btrim(r->>'title'));
  v_priority alert_priority := (r->>'priority')::alert_priority;
  v_window integer := (r->>'dedupWindowSeconds')::integer;
  v_source text := coalesce(r->>'source', 'console');
  v_external text := r->>'externalId';
  dup alerts;
  v_id text;
  v_from alert_priority;
  v_secs integer;
  v_start timestamptz;
  v_alert jsonb;
BEGIN
  PERFORM 1 FROM departments WHERE id = v_dept AND hospital_id = v_hospital AND is_active;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Department not found' USING ERRCODE = 'CLR01';
  END IF;
  IF (SELECT md5(settings::text) FROM hospitals WHERE id = v_hospital) IS DISTINCT FROM r->>'settingsHash' THEN
    RAISE EXCEPTION 'The hospital settings changed' USING ERRCODE = 'CLR02';
  END IF;

  -- The sender's own id (an HL7 alarm identifier): a repeat of an open alarm is that alarm, whatever
  -- the dedup window; the advisory lock serialises two deliveries of the same message.
  IF v_external IS NOT NULL THEN
    PERFORM pg_advisory_xact_lock(hashtextextended('clarion:external:' || v_hospital || ':' || v_source || ':' || v_external, 0));
    SELECT * INTO dup FROM alerts a
    WHERE a.hospital_id = v_hospital AND a.source = v_source AND a.external_id = v_external AND a.status IN ('active', 'acknowledged')
    FOR UPDATE;
  END IF;

  -- Duplicate suppression (DESIGN.md "Clinical safety contract"): the advisory lock on the key
  -- serialises identical raises, so exactly one creates and the others repeat the row it locked.
  IF dup.id IS NULL AND v_window > 0 THEN
    PERFORM pg_advisory_xact_lock(hashtextextended('clarion:dedup:' || v_dept || ':' || coalesce(v_room, '') || ':' || v_type || ':' || v_title, 0));
    SELECT * INTO dup FROM alerts a
    WHERE a.hospital_id = v_hospital AND a.department_id = v_dept AND a.alert_type = v_type
      AND lower(btrim(a.title)) = v_title AND a.room_number IS NOT DISTINCT FROM v_room
      AND a.status IN ('active', 'acknowledged')
      AND a.last_raised_at >= now() - make_interval(secs => v_window)
    ORDER BY a.created_at
    LIMIT 1
    FOR UPDATE;
  END IF;

  IF dup.id IS NULL THEN
    INSERT INTO alerts (hospital_id, department_id, title, description, priority, alert_type, room_number, expires_at, next_escalation_at, created_by, source, external_id)
    VALUES (v_hospital, v_dept, r->>'title', r->>'description', v_priority, v_type, v_room, (r->>'expiresAt')::timestamptz,
            now() + make_interval(secs => (r->'timeouts'->(v_priority::text)->>0)::integer), r->>'createdBy', v_source, v_external)
    RETURNING id INTO v_id;
    v_alert := clarion_alert_json(v_id);
    RETURN jsonb_build_object(
      'alert', v_alert, 'deduplicated', false, 'priorityRaisedFrom', NULL,
      'events', jsonb_build_array(jsonb_build_object('type', 'created', 'detail', NULL)),
      'action', 'alert.created',
      'metadata', jsonb_build_object('priority', v_alert->'priority', 'departmentId', v_alert->'departmentId'));
  END IF;

  -- A repeat never lowers urgency; a higher priority moves an active alert's deadline onto the new
  -- priority's timeline from when it reached its current level (due at once if already past), as
  -- priorityChange() in server/alerts/transitions.ts does for a correction.
  IF v_priority > dup.priority THEN
    v_from := dup.priority;
    IF dup.status = 'active' THEN
      v_start := CASE WHEN dup.escalation_level = 0 THEN dup.created_at
        ELSE coalesce((SELECT max(escalated_at) FROM alert_escalations WHERE alert_id = dup.id), dup.created_at) END;
      v_secs := (r->'timeouts'->(v_priority::text)->>dup.escalation_level)::integer;
    END IF;
  END IF;
  UPDATE alerts SET
    repeat_count = dup.repeat_count + 1,
    last_raised_at = now(),
    priority = CASE WHEN v_from IS NULL THEN priority ELSE v_priority END,
    next_escalation_at = CASE WHEN v_from IS NULL OR dup.status <> 'active' THEN next_escalation_at
      WHEN v_secs IS NULL THEN NULL -- at or above the new priority's top level: no further deadline
      ELSE greatest(v_start + make_interval(secs => v_secs), now()) END,
    version = version + 1,
    updated_at = now()
  WHERE id = dup.id;
  v_alert := clarion_alert_json(dup.id);
  RETURN jsonb_build_object(
    'alert', v_alert, 'deduplicated', true, 'priorityRaisedFrom', v_from,
    'events', CASE WHEN v_from IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(jsonb_build_object('type', 'updated', 'detail',
        jsonb_build_object('changed', jsonb_build_array('priority'), 'priority', jsonb_build_object('from', v_from, 'to', v_priority), 'reason', 'repeat'))) END
      || jsonb_build_array(jsonb_build_object('type', 'repeated', 'detail', jsonb_build_object('repeatCount', dup.repeat_count + 1))),
    'action', 'alert.repeated',
    'metadata', jsonb_build_object('from', dup.status, 'to', v_alert->'status', 'level', v_alert->'escalationLevel', 'repeatCount', dup.repeat_count + 1)
      || CASE WHEN v_from IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('priorityRaisedFrom', v_from, 'priority', v_priority) END);
END $$;
