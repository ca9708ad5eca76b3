-- Every state change of an alert as one statement (hand-written; DESIGN.md "The delivery engine").
-- The rules stay in TypeScript (server/alerts/transitions.ts): Node reads the row without a lock,
-- authorizes and computes the new column values and the events, then sends them here with the version
-- it read. The guarded UPDATE takes the row lock; a row that moved on since the read is refused
-- (CLR03) and Node reads it again. Row locks first, the hospital lock last, held only for the
-- event/audit tail and the commit that ends the statement.

-- A timestamp computed from Postgres's clock, never Node's: JSON null, or { "afterNow": seconds }.
CREATE OR REPLACE FUNCTION clarion_change_at(v jsonb) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN v IS NULL OR jsonb_typeof(v) = 'null' THEN NULL
    ELSE now() + make_interval(secs => (v->>'afterNow')::double precision) END;
$$;
--> statement-breakpoint
-- p: { alertId, hospitalId, departmentId (the caller's scope, null: the whole hospital), version (as
--      read), from: [status…], settingsHash (only when the change read the settings),
--      set: { <camelCase column>: value } where timestamps are clarion_change_at values and
--      nextEscalationAt may also be { "levelStart": seconds } (counted from when the alert reached its
--      current level, never before now: a priority change, as clarion_raise_alert does for a repeat),
--      escalation: { fromLevel, toLevel, reason } or null, events: [{ type, detail }…], action,
--      metadata (the audit row's, scrubbed), audit: { userId, hospitalId, ip, userAgent, sessionId } }.
-- Returns { alert, events: [AlertEvent…] } (clarion_record_raise's answer; its raise-only keys are null).
-- Errors: CLR02 the settings changed since Node read them; CLR03 the row is not the one Node read
-- (another version or status, or out of the caller's scope): nothing written, Node reads it again.
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
