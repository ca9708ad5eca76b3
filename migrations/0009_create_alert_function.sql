-- alerts.create as one statement (hand-written; DESIGN.md "The delivery engine"): the raise runs in
-- Postgres in one autocommit call, so the hospital lock is held only for the event/audit tail and the
-- commit, never across a client round trip. Node passes the input already validated by zod.

-- A timestamp as the wire renders it: Date.prototype.toISOString() of the value node-postgres reads,
-- i.e. UTC, milliseconds truncated (not rounded) from the stored microseconds, and a Z.
CREATE OR REPLACE FUNCTION clarion_iso(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
$$;
--> statement-breakpoint
-- The alert in the wire shape, key for key what toAlert() in server/alerts/queries.ts builds (the
-- contract test test/alerts/create-function.int.test.ts compares the two).
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
-- The first half of a raise, everything that takes row locks: the department check, the settings
-- check, duplicate suppression, the insert or the repeat. Returns the alert, the events to append and
-- the audit entry; writes no event or audit row (so it takes no hospital lock).
-- r: { hospitalId, departmentId, title, description, priority, alertType (lower case), roomNumber,
--      expiresAt, createdBy, settingsHash, dedupWindowSeconds, timeouts: { <priority>: [seconds…] } }
-- Errors: CLR01 department not found (missing, inactive or another hospital's); CLR02 the settings
-- changed since Node read them (Node reloads and tries again).
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
-- The second half, run under the hospital lock (the caller takes it): the event rows in order and the
-- audit row (metadata with the last event id, as appendEventsWithAudit writes it). The audit chain
-- trigger takes the same lock again.
-- a: the audit context { userId, hospitalId, ip, userAgent, sessionId }.
CREATE OR REPLACE FUNCTION clarion_record_raise(x jsonb, a jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  e jsonb;
  ev alert_events;
  v_events jsonb := '[]';
BEGIN
  FOR e IN SELECT value FROM jsonb_array_elements(x->'events') WITH ORDINALITY ORDER BY ordinality LOOP
    INSERT INTO alert_events (hospital_id, department_id, alert_id, type, actor_id, alert, detail, escalation_level)
    VALUES (x->'alert'->>'hospitalId', x->'alert'->>'departmentId', x->'alert'->>'id', (e->>'type')::alert_event_type,
            a->>'userId', x->'alert', nullif(e->'detail', 'null'::jsonb), (x->'alert'->>'escalationLevel')::integer)
    RETURNING * INTO ev;
    v_events := v_events || jsonb_build_array(jsonb_build_object('id', ev.id::text, 'type', ev.type, 'alert', ev.alert,
      'actorId', ev.actor_id, 'occurredAt', clarion_iso(ev.occurred_at), 'detail', ev.detail));
  END LOOP;
  INSERT INTO audit_logs (user_id, hospital_id, action, resource, resource_id, outcome, ip_address, user_agent, session_id, metadata)
  VALUES (a->>'userId', a->>'hospitalId', x->>'action', 'alert', x->'alert'->>'id', 'success', a->>'ip', a->>'userAgent', a->>'sessionId',
          (x->'metadata') || jsonb_build_object('eventId', ev.id::text));
  RETURN jsonb_build_object('alert', x->'alert', 'events', v_events, 'deduplicated', x->'deduplicated', 'priorityRaisedFrom', x->'priorityRaisedFrom');
END $$;
--> statement-breakpoint
-- One raise, one statement: row locks first, the hospital lock last (DESIGN.md "Decisions that prevent
-- subtle bugs"), held from here to the commit that ends the statement.
-- p: the raise (see clarion_raise_alert) plus audit: { userId, hospitalId, ip, userAgent, sessionId }.
-- Returns { alert, events: [AlertEvent…], deduplicated, priorityRaisedFrom }.
CREATE OR REPLACE FUNCTION clarion_create_alert(p jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  x jsonb := clarion_raise_alert(p);
BEGIN
  PERFORM clarion_hospital_lock(x->'alert'->>'hospitalId');
  RETURN clarion_record_raise(x, p->'audit');
END $$;
