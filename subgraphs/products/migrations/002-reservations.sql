-- A reservation holds stock for one order (its id is the order id, which makes reserve idempotent).
-- RESERVED stock is returned by the sweeper after expires_at; COMMITTED stock is sold; RELEASED
-- stock went back. A release for an unknown id writes a RELEASED tombstone so a reserve request
-- that arrives late (after the order gave up on it) can never take stock.
CREATE TABLE IF NOT EXISTS products.reservations (
  id uuid PRIMARY KEY,
  user_id uuid,
  status text NOT NULL CHECK (status IN ('RESERVED', 'COMMITTED', 'RELEASED')),
  items jsonb NOT NULL DEFAULT '[]',
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS reservations_expiry_idx ON products.reservations (expires_at) WHERE status = 'RESERVED';

CREATE TABLE IF NOT EXISTS products.outbox (
  seq bigserial PRIMARY KEY,
  event_id uuid NOT NULL UNIQUE,
  topic text NOT NULL,
  event_key text NOT NULL,
  type text NOT NULL,
  envelope jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);

CREATE INDEX IF NOT EXISTS products_outbox_unpublished_idx ON products.outbox (seq) WHERE published_at IS NULL;
