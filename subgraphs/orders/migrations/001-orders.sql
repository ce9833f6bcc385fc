-- Timestamps are truncated to milliseconds so a cursor built from a JavaScript Date compares exactly.
CREATE TABLE IF NOT EXISTS orders.orders (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL,
  status text NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'FAILED', 'CANCELLED')),
  total_minor bigint NOT NULL CHECK (total_minor >= 0),
  currency char(3) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
  updated_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
);

CREATE INDEX IF NOT EXISTS orders_user_created_idx ON orders.orders (user_id, created_at DESC, id DESC);

CREATE TABLE IF NOT EXISTS orders.order_items (
  order_id uuid NOT NULL REFERENCES orders.orders (id) ON DELETE CASCADE,
  position smallint NOT NULL,
  product_id uuid NOT NULL,
  quantity integer NOT NULL CHECK (quantity > 0),
  unit_price_minor bigint NOT NULL CHECK (unit_price_minor >= 0),
  PRIMARY KEY (order_id, position)
);
