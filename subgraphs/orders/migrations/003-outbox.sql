CREATE TABLE IF NOT EXISTS orders.outbox (
  seq bigserial PRIMARY KEY,
  event_id uuid NOT NULL UNIQUE,
  topic text NOT NULL,
  event_key text NOT NULL,
  type text NOT NULL,
  envelope jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);

CREATE INDEX IF NOT EXISTS orders_outbox_unpublished_idx ON orders.outbox (seq) WHERE published_at IS NULL;
