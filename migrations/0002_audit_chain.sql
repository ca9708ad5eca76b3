-- Tamper-evident, append-only audit log (hand-written; see DESIGN.md "Audit chain" and "Retention purge").

-- Canonical content of a row, from the values Postgres stores: keys sorted by jsonb, timestamps as UTC
-- ISO-8601 with microseconds. Writer and verifier both call this, so they cannot disagree.
CREATE OR REPLACE FUNCTION audit_row_hash(r audit_logs) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT encode(sha256(convert_to(r.prev_hash || '|' || jsonb_build_object(
    'id', r.id, 'chain_id', r.chain_id, 'seq', r.seq::text, 'user_id', r.user_id,
    'hospital_id', r.hospital_id, 'action', r.action, 'resource', r.resource,
    'resource_id', r.resource_id, 'outcome', r.outcome::text, 'ip_address', r.ip_address,
    'user_agent', r.user_agent, 'session_id', r.session_id, 'metadata', r.metadata,
    'timestamp', to_char(r.timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'retention_until', to_char(r.retention_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
  )::text, 'UTF8')), 'hex');
$$;
--> statement-breakpoint
-- Every insert, whatever the client, is chained here under the hospital lock.
CREATE OR REPLACE FUNCTION audit_logs_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  last_seq bigint;
  last_hash text;
BEGIN
  NEW.chain_id := coalesce(NEW.hospital_id, 'system');
  PERFORM clarion_hospital_lock(NEW.chain_id);
  SELECT seq, hash INTO last_seq, last_hash FROM audit_logs
    WHERE chain_id = NEW.chain_id ORDER BY seq DESC LIMIT 1;
  IF last_seq IS NULL THEN
    SELECT seq, hash INTO last_seq, last_hash FROM audit_chain_anchors WHERE chain_id = NEW.chain_id;
  END IF;
  NEW.seq := coalesce(last_seq, 0) + 1;
  NEW.prev_hash := coalesce(last_hash, repeat('0', 64));
  -- Taken after the lock, so timestamps never run backwards along the chain.
  NEW.timestamp := clock_timestamp();
  NEW.retention_until := NEW.timestamp + interval '6 years';
  NEW.hash := audit_row_hash(NEW);
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER audit_logs_chain BEFORE INSERT ON audit_logs
  FOR EACH ROW EXECUTE FUNCTION audit_logs_chain();
--> statement-breakpoint
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'clarion_audit_purger') THEN
    CREATE ROLE clarion_audit_purger NOLOGIN;
  END IF;
END $$;
--> statement-breakpoint
-- UPDATE, DELETE and TRUNCATE are refused, except DELETE from inside audit_purge() (owned by the purger role).
CREATE OR REPLACE FUNCTION audit_logs_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_user = 'clarion_audit_purger' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_logs is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
--> statement-breakpoint
CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs
  FOR EACH ROW EXECUTE FUNCTION audit_logs_guard();
--> statement-breakpoint
CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
  FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_guard();
--> statement-breakpoint
-- Deletes up to p_limit of the oldest rows of a chain past retention_until (a contiguous seq prefix)
-- and records the hash of the last one deleted as the chain's anchor. Returns the number deleted.
CREATE OR REPLACE FUNCTION audit_purge(p_chain text, p_limit integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  first_kept bigint;
  cut_seq bigint;
  cut_hash text;
  deleted integer;
BEGIN
  PERFORM clarion_hospital_lock(p_chain);
  SELECT min(seq) INTO first_kept FROM audit_logs WHERE chain_id = p_chain AND retention_until >= now();
  SELECT seq, hash INTO cut_seq, cut_hash FROM (
    SELECT seq, hash FROM audit_logs
    WHERE chain_id = p_chain AND (first_kept IS NULL OR seq < first_kept)
    ORDER BY seq LIMIT greatest(p_limit, 0)
  ) oldest ORDER BY seq DESC LIMIT 1;
  IF cut_seq IS NULL THEN
    RETURN 0;
  END IF;
  DELETE FROM audit_logs WHERE chain_id = p_chain AND seq <= cut_seq;
  GET DIAGNOSTICS deleted = ROW_COUNT;
  INSERT INTO audit_chain_anchors (chain_id, seq, hash, purged_at) VALUES (p_chain, cut_seq, cut_hash, now())
    ON CONFLICT (chain_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, purged_at = excluded.purged_at;
  RETURN deleted;
END $$;
--> statement-breakpoint
GRANT SELECT, DELETE ON audit_logs TO clarion_audit_purger;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON audit_chain_anchors TO clarion_audit_purger;
--> statement-breakpoint
ALTER FUNCTION audit_purge(text, integer) OWNER TO clarion_audit_purger;
--> statement-breakpoint
-- Verifies one chain: every row's hash matches its content, links to its predecessor (or the purge
-- anchor) and seq has no gaps. Returns the first broken seq (NULL when intact) and the rows checked.
CREATE OR REPLACE FUNCTION audit_verify(p_chain text)
RETURNS TABLE (rows_checked bigint, first_bad_seq bigint, problem text)
LANGUAGE sql STABLE AS $$
  WITH anchor AS (
    SELECT coalesce((SELECT seq FROM audit_chain_anchors WHERE chain_id = p_chain), 0) AS seq,
           coalesce((SELECT hash FROM audit_chain_anchors WHERE chain_id = p_chain), repeat('0', 64)) AS hash
  ),
  chain AS (
    SELECT a.seq, a.prev_hash, a.hash, audit_row_hash(a) AS computed,
           lag(a.hash) OVER w AS prev_actual, lag(a.seq) OVER w AS prev_seq
    FROM audit_logs a WHERE a.chain_id = p_chain WINDOW w AS (ORDER BY a.seq)
  ),
  problems AS (
    SELECT c.seq,
      CASE
        WHEN c.computed <> c.hash THEN 'row content does not match its hash (modified)'
        WHEN c.seq <> coalesce(c.prev_seq, (SELECT seq FROM anchor)) + 1 THEN 'gap in sequence (row deleted)'
        WHEN c.prev_hash <> coalesce(c.prev_actual, (SELECT hash FROM anchor)) THEN 'link to previous row broken (row inserted or removed)'
      END AS problem
    FROM chain c
  )
  SELECT (SELECT count(*) FROM chain),
         (SELECT min(seq) FROM problems WHERE problem IS NOT NULL),
         (SELECT problem FROM problems WHERE problem IS NOT NULL ORDER BY seq LIMIT 1);
$$;
