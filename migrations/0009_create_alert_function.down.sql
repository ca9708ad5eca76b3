DROP FUNCTION IF EXISTS clarion_create_alert(jsonb);
DROP FUNCTION IF EXISTS clarion_record_raise(jsonb, jsonb);
DROP FUNCTION IF EXISTS clarion_raise_alert(jsonb);
DROP FUNCTION IF EXISTS clarion_alert_json(text);
DROP FUNCTION IF EXISTS clarion_iso(timestamptz);
