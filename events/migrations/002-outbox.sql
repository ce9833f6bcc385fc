-- Events of the notification pipeline itself (`notifications.notification.delivered`): written by the
-- dispatcher in the statement that records a delivery, published by the outbox relay like the other
-- services' outboxes (same columns as orders.outbox, see events/outbox-relay.ts).
CREATE TABLE IF NOT EXISTS notifications.outbox (
  seq bigserial PRIMARY KEY,
  event_id uuid NOT NULL UNIQUE,
  topic text NOT NULL,
  event_key text NOT NULL,
  type text NOT NULL,
  envelope jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);

CREATE INDEX IF NOT EXISTS notifications_outbox_unpublished_idx ON notifications.outbox (seq) WHERE published_at IS NULL;

-- Wakes the outbox relay as soon as a transaction that wrote events commits; one line per statement.
CREATE OR REPLACE FUNCTION notifications.notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('outbox_notifications', ''); RETURN NULL; END $$;

DROP TRIGGER IF EXISTS outbox_notify ON notifications.outbox;

CREATE TRIGGER outbox_notify AFTER INSERT ON notifications.outbox FOR EACH STATEMENT EXECUTE FUNCTION notifications.notify_outbox();
