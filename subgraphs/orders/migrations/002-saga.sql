-- Saga state lives on the order row. saga_step is the next thing to do; DONE means final.
-- lease_until is held by the process running the saga; an expired lease is picked up by the resumer
-- (a crashed process's sagas resume elsewhere). *_attempted say which compensations may be owed.
ALTER TABLE orders.orders ADD COLUMN IF NOT EXISTS idempotency_key text;
ALTER TABLE orders.orders ADD COLUMN IF NOT EXISTS request_hash text;
ALTER TABLE orders.orders ADD COLUMN IF NOT EXISTS payment_token text;
ALTER TABLE orders.orders ADD COLUMN IF NOT EXISTS failure_code text;
ALTER TABLE orders.orders ADD COLUMN IF NOT EXISTS saga_step text NOT NULL DEFAULT 'DONE';
ALTER TABLE orders.orders ADD COLUMN IF NOT EXISTS lease_until timestamptz;
ALTER TABLE orders.orders ADD COLUMN IF NOT EXISTS reserve_attempted boolean NOT NULL DEFAULT false;
ALTER TABLE orders.orders ADD COLUMN IF NOT EXISTS payment_attempted boolean NOT NULL DEFAULT false;
ALTER TABLE orders.orders ADD COLUMN IF NOT EXISTS saga_attempts integer NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX IF NOT EXISTS orders_user_idempotency_idx ON orders.orders (user_id, idempotency_key);
CREATE INDEX IF NOT EXISTS orders_saga_idx ON orders.orders (lease_until) WHERE saga_step <> 'DONE';
