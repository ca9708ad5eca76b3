-- Anchors of each audit chain's head (issue 13 item 11; hand-written). A row here is an HMAC-SHA256,
-- keyed by AUDIT_ANCHOR_KEY (in the environment, never in the database), over (chain id, seq, hash,
-- time): whoever can write audit_logs can recompute the SHA-256 chain but not these, so a chain whose
-- head falls below its last anchor (rows deleted from the end) or whose anchored row changed is found.
CREATE TABLE "audit_head_anchors" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"chain_id" text NOT NULL,
	"seq" bigint NOT NULL,
	"hash" text NOT NULL,
	"anchored_at" timestamp with time zone NOT NULL,
	"mac" text NOT NULL,
	CONSTRAINT "audit_head_anchors_chain_seq_key" UNIQUE("chain_id","seq")
);
--> statement-breakpoint
-- Append-only like the log it anchors (a superuser can still bypass this; the copies in exports,
-- backup manifests and the worker's log are what such an attacker cannot reach).
CREATE OR REPLACE FUNCTION audit_head_anchors_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_head_anchors is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
--> statement-breakpoint
CREATE TRIGGER audit_head_anchors_append_only BEFORE UPDATE OR DELETE ON audit_head_anchors
  FOR EACH ROW EXECUTE FUNCTION audit_head_anchors_guard();
--> statement-breakpoint
CREATE TRIGGER audit_head_anchors_no_truncate BEFORE TRUNCATE ON audit_head_anchors
  FOR EACH STATEMENT EXECUTE FUNCTION audit_head_anchors_guard();
--> statement-breakpoint
-- The anchor of the chain head at the export's snapshot, kept with the export and sent with its download.
ALTER TABLE "audit_exports" ADD COLUMN "anchor" jsonb;
