DROP INDEX "alerts_dedup_idx";
CREATE INDEX "alerts_dedup_idx" ON "alerts" USING btree ("hospital_id","department_id","alert_type","room_number") WHERE "alerts"."status" IN ('active', 'acknowledged');
ALTER TABLE "alerts" DROP COLUMN "last_raised_at";
