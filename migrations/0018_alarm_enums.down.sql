-- The enum values added by 0018 (alert_status shelved/suppressed; alert_event_type shelved, unshelved,
-- suppressed, responding) stay: Postgres cannot drop an enum value, and 0019's down migration puts
-- every row that used them back to a status the older code knows.
SELECT 1;
