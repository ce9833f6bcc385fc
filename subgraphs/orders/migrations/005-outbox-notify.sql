-- Wakes the outbox relay as soon as a transaction that wrote events commits (NOTIFY is delivered
-- at commit, once per transaction for identical payloads); the relay keeps polling as a fallback.
-- One line per statement: the migration runner splits scripts at line-ending semicolons.
CREATE OR REPLACE FUNCTION orders.notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('outbox_orders', ''); RETURN NULL; END $$;

DROP TRIGGER IF EXISTS outbox_notify ON orders.outbox;

CREATE TRIGGER outbox_notify AFTER INSERT ON orders.outbox FOR EACH STATEMENT EXECUTE FUNCTION orders.notify_outbox();
