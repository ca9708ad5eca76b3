-- Functions and extensions the schema depends on (hand-written; drizzle-kit generate --custom).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
--> statement-breakpoint
-- Time-ordered UUIDv7 as text: index-friendly primary keys that SQL-side inserts can default to.
CREATE OR REPLACE FUNCTION uuid_v7() RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL SAFE AS $$
DECLARE
  ms bigint := floor(extract(epoch FROM clock_timestamp()) * 1000);
  b bytea := uuid_send(gen_random_uuid());
BEGIN
  b := overlay(b PLACING substring(int8send(ms) FROM 3) FROM 1 FOR 6);
  b := set_byte(b, 6, (get_byte(b, 6) & 15) | 112);
  RETURN encode(b, 'hex')::uuid::text;
END $$;
--> statement-breakpoint
-- One lock per hospital (or the 'system' chain), held to commit. Alert events and audit rows take it
-- just before inserting, so bigserial event ids and audit seq numbers commit in order within a hospital.
CREATE OR REPLACE FUNCTION clarion_hospital_lock(p_chain text) RETURNS void
LANGUAGE sql VOLATILE AS $$
  SELECT pg_advisory_xact_lock(hashtextextended('clarion:hospital:' || p_chain, 0));
$$;
