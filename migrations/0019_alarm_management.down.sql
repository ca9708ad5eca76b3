-- Back to 0017: rows in the new statuses become ones the older code knows (a shelved alert active again,
-- a suppressed one resolved), then the functions as 0016/0011 left them, the old index predicates, and
-- the new columns and tables go.
UPDATE alerts SET status = 'active', shelved_until = NULL WHERE status = 'shelved';
UPDATE alerts SET status = 'resolved', resolved_at = coalesce(resolved_at, updated_at) WHERE status = 'suppressed';
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
CREATE OR REPLACE FUNCTION clarion_change_alert(p jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  s jsonb := p->'set';
  v_id text := p->>'alertId';
  v_hospital text := p->>'hospitalId';
  v_dept text := p->>'departmentId';
  v_alert jsonb;
BEGIN
  IF p ? 'settingsHash' AND (SELECT md5(settings::text) FROM hospitals WHERE id = v_hospital) IS DISTINCT FROM p->>'settingsHash' THEN
    RAISE EXCEPTION 'The hospital settings changed' USING ERRCODE = 'CLR02';
  END IF;

  -- Every column a ChangeSpec may set, each kept unless the change names it (a static statement, so
  -- its plan is cached with the function).
  UPDATE alerts a SET
    status = CASE WHEN s ? 'status' THEN (s->>'status')::alert_status ELSE a.status END,
    title = CASE WHEN s ? 'title' THEN s->>'title' ELSE a.title END,
    description = CASE WHEN s ? 'description' THEN s->>'description' ELSE a.description END,
    room_number = CASE WHEN s ? 'roomNumber' THEN s->>'roomNumber' ELSE a.room_number END,
    priority = CASE WHEN s ? 'priority' THEN (s->>'priority')::alert_priority ELSE a.priority END,
    escalation_level = CASE WHEN s ? 'escalationLevel' THEN (s->>'escalationLevel')::integer ELSE a.escalation_level END,
    acknowledged_by = CASE WHEN s ? 'acknowledgedBy' THEN s->>'acknowledgedBy' ELSE a.acknowledged_by END,
    acknowledged_at = CASE WHEN s ? 'acknowledgedAt' THEN clarion_change_at(s->'acknowledgedAt') ELSE a.acknowledged_at END,
    resolved_by = CASE WHEN s ? 'resolvedBy' THEN s->>'resolvedBy' ELSE a.resolved_by END,
    resolved_at = CASE WHEN s ? 'resolvedAt' THEN clarion_change_at(s->'resolvedAt') ELSE a.resolved_at END,
    cancelled_by = CASE WHEN s ? 'cancelledBy' THEN s->>'cancelledBy' ELSE a.cancelled_by END,
    cancelled_at = CASE WHEN s ? 'cancelledAt' THEN clarion_change_at(s->'cancelledAt') ELSE a.cancelled_at END,
    ack_deadline_at = CASE WHEN s ? 'ackDeadlineAt' THEN clarion_change_at(s->'ackDeadlineAt') ELSE a.ack_deadline_at END,
    next_escalation_at = CASE
      WHEN NOT s ? 'nextEscalationAt' THEN a.next_escalation_at
      WHEN s->'nextEscalationAt' ? 'levelStart' THEN greatest(
        CASE WHEN a.escalation_level = 0 THEN a.created_at
          ELSE coalesce((SELECT max(e.escalated_at) FROM alert_escalations e WHERE e.alert_id = a.id), a.created_at) END
          + make_interval(secs => (s->'nextEscalationAt'->>'levelStart')::double precision),
        now())
      ELSE clarion_change_at(s->'nextEscalationAt') END,
    version = a.version + 1,
    updated_at = now()
  WHERE a.id = v_id AND a.hospital_id = v_hospital AND (v_dept IS NULL OR a.department_id = v_dept)
    AND a.version = (p->>'version')::integer
    AND a.status::text IN (SELECT jsonb_array_elements_text(p->'from'));
  IF NOT FOUND THEN
    RAISE EXCEPTION 'The alert changed meanwhile' USING ERRCODE = 'CLR03';
  END IF;

  IF jsonb_typeof(p->'escalation') = 'object' THEN
    INSERT INTO alert_escalations (alert_id, hospital_id, from_level, to_level, reason, escalated_by)
    VALUES (v_id, v_hospital, (p->'escalation'->>'fromLevel')::integer, (p->'escalation'->>'toLevel')::integer,
            (p->'escalation'->>'reason')::escalation_reason, p->'audit'->>'userId');
  END IF;
  v_alert := clarion_alert_json(v_id);

  PERFORM clarion_hospital_lock(v_hospital);
  RETURN clarion_record_raise(jsonb_build_object('alert', v_alert, 'events', p->'events', 'action', p->>'action', 'metadata', p->'metadata'), p->'audit');
END $$;
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
DROP INDEX IF EXISTS "alerts_open_external_key";
DROP INDEX IF EXISTS "alerts_open_board_idx";
DROP INDEX IF EXISTS "alerts_dedup_idx";
DROP INDEX IF EXISTS "alerts_expires_idx";
DROP INDEX IF EXISTS "alerts_shelved_until_idx";
ALTER TABLE "alerts" DROP CONSTRAINT IF EXISTS "alerts_shelved_consistent";
ALTER TABLE "alerts" DROP CONSTRAINT IF EXISTS "alerts_suppressed_consistent";
ALTER TABLE "alerts" DROP CONSTRAINT IF EXISTS "alerts_code_known";
ALTER TABLE "alerts" DROP CONSTRAINT IF EXISTS "alerts_shelve_reason_length";
ALTER TABLE "alerts" DROP CONSTRAINT IF EXISTS "alerts_suppression_id_suppressions_id_fk";
ALTER TABLE "alerts" DROP CONSTRAINT IF EXISTS "alerts_shelved_by_users_id_fk";
ALTER TABLE "alerts" DROP COLUMN "shelved_until", DROP COLUMN "shelved_by", DROP COLUMN "shelve_reason", DROP COLUMN "code", DROP COLUMN "suppression_id";
DROP TABLE "alert_responders";
DROP TABLE "suppressions";
CREATE UNIQUE INDEX "alerts_open_external_key" ON "alerts" USING btree ("hospital_id","source","external_id") WHERE "alerts"."external_id" IS NOT NULL AND "alerts"."status" IN ('active', 'acknowledged');
CREATE INDEX "alerts_open_board_idx" ON "alerts" USING btree ("hospital_id","priority" DESC NULLS LAST,"created_at","id") WHERE "alerts"."status" IN ('active', 'acknowledged');
CREATE INDEX "alerts_dedup_idx" ON "alerts" USING btree ("hospital_id","department_id","alert_type",lower(btrim("title")),"room_number","last_raised_at") WHERE "alerts"."status" IN ('active', 'acknowledged');
CREATE INDEX "alerts_expires_idx" ON "alerts" USING btree ("expires_at") WHERE "alerts"."status" IN ('active', 'acknowledged') AND "alerts"."expires_at" IS NOT NULL;
