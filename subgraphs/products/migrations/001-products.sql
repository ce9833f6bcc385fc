CREATE TABLE IF NOT EXISTS products.products (
  id uuid PRIMARY KEY,
  sku text NOT NULL UNIQUE,
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  price_minor bigint NOT NULL CHECK (price_minor >= 0),
  currency char(3) NOT NULL,
  -- Units free to reserve. Never negative: reservations decrement it with a conditional update.
  inventory integer NOT NULL CHECK (inventory >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS products_name_lower_idx ON products.products (lower(name));
