-- Integrations issue: outbound webhooks' outbox. Every alert event writes, in its own transaction, one
-- delivery row per active webhook of its hospital that asked for its type — so no event path (raise,
-- change, page, sweeper) can forget one, and a crash between the event and the send loses nothing.
CREATE INDEX "webhooks_hospital_active_idx" ON "webhooks" USING btree ("hospital_id") WHERE "webhooks"."is_active";--> statement-breakpoint
CREATE OR REPLACE FUNCTION clarion_webhook_outbox() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO webhook_deliveries (hospital_id, webhook_id, event_id, event_type, payload)
  SELECT NEW.hospital_id, w.id, NEW.id, 'alert.' || NEW.type,
         jsonb_build_object('id', NEW.id::text, 'type', 'alert.' || NEW.type, 'occurredAt', clarion_iso(NEW.occurred_at),
                            'actorId', NEW.actor_id, 'alert', NEW.alert, 'detail', NEW.detail)
  FROM webhooks w
  WHERE w.hospital_id = NEW.hospital_id AND w.is_active AND ('alert.' || NEW.type) = ANY (w.events);
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER alert_events_webhook_outbox AFTER INSERT ON alert_events FOR EACH ROW EXECUTE FUNCTION clarion_webhook_outbox();
