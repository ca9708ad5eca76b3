ALTER TABLE "audit_exports" DROP COLUMN IF EXISTS "anchor";
--> statement-breakpoint
DROP TABLE IF EXISTS "audit_head_anchors";
--> statement-breakpoint
DROP FUNCTION IF EXISTS audit_head_anchors_guard();
