DROP FUNCTION IF EXISTS clarion_create_alerts(jsonb);
