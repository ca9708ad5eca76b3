DROP TABLE IF EXISTS "notification_rules";
DROP TABLE IF EXISTS "contacts";
DROP TYPE IF EXISTS "notification_channel";
