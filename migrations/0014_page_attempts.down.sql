-- Back to 0012's clarion_page_level (no outbox), then drop the outbox.
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
--> statement-breakpoint
DROP TABLE IF EXISTS "page_attempts";
--> statement-breakpoint
DROP TYPE IF EXISTS "attempt_status";
