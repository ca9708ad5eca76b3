-- The enum values added by 0012 (alert_event_type paged/coverage_gap, escalation_reason coverage_gap)
-- stay: Postgres cannot drop an enum value, and nothing refers to them once these tables are gone.
DROP FUNCTION IF EXISTS clarion_page_level(jsonb);
DROP TRIGGER IF EXISTS schedules_no_delete ON schedules;
DROP FUNCTION IF EXISTS clarion_schedule_no_delete();
DROP TRIGGER IF EXISTS hospitals_settings_targets ON hospitals;
DROP FUNCTION IF EXISTS clarion_check_settings_targets();
DROP TABLE IF EXISTS "alert_level_pagings";
DROP TABLE IF EXISTS "alert_pages";
DROP TABLE IF EXISTS "care_assignments";
DROP TABLE IF EXISTS "schedule_overrides";
DROP TABLE IF EXISTS "schedule_participants";
DROP TABLE IF EXISTS "schedules";
ALTER TABLE "departments" DROP COLUMN IF EXISTS "rooms";
ALTER TABLE "users" DROP CONSTRAINT IF EXISTS "users_hospital_id_key";
DROP TYPE IF EXISTS "page_response";
