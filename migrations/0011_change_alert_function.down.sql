DROP FUNCTION IF EXISTS clarion_change_alert(jsonb);
DROP FUNCTION IF EXISTS clarion_change_at(jsonb);
