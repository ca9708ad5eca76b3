-- Back to 0015: the 0009 raise and alert JSON (no source), then drop the integration tables and columns.
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
    'createdAt', clarion_iso(a.created_at), 'updatedAt', clarion_iso(a.updated_at), 'expiresAt', clarion_iso(a.expires_at))
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

  -- Duplicate suppression (DESIGN.md "Clinical safety contract"): the advisory lock on the key
  -- serialises identical raises, so exactly one creates and the others repeat the row it locked.
  IF v_window > 0 THEN
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
    INSERT INTO alerts (hospital_id, department_id, title, description, priority, alert_type, room_number, expires_at, next_escalation_at, created_by)
    VALUES (v_hospital, v_dept, r->>'title', r->>'description', v_priority, v_type, v_room, (r->>'expiresAt')::timestamptz,
            now() + make_interval(secs => (r->'timeouts'->(v_priority::text)->>0)::integer), r->>'createdBy')
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
--> statement-breakpoint
DROP INDEX IF EXISTS "alerts_open_external_key";--> statement-breakpoint
ALTER TABLE "alerts" DROP CONSTRAINT IF EXISTS "alerts_source_length";--> statement-breakpoint
ALTER TABLE "alerts" DROP COLUMN IF EXISTS "external_id";--> statement-breakpoint
ALTER TABLE "alerts" DROP COLUMN IF EXISTS "source";--> statement-breakpoint
DROP TABLE IF EXISTS "webhook_deliveries";--> statement-breakpoint
DROP TABLE IF EXISTS "webhooks";--> statement-breakpoint
DROP TABLE IF EXISTS "hl7_sources";--> statement-breakpoint
DROP TABLE IF EXISTS "idempotency_keys";--> statement-breakpoint
DROP TABLE IF EXISTS "api_keys";
