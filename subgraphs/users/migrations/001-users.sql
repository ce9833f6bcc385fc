CREATE TABLE IF NOT EXISTS users.users (
  id uuid PRIMARY KEY,
  email text NOT NULL UNIQUE,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('CUSTOMER', 'ADMIN')),
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Token signing keys. The newest unretired key signs; every key whose tokens may still be alive
-- is published in the JWKS, so rotation never invalidates a token before it expires.
CREATE TABLE IF NOT EXISTS users.signing_keys (
  kid text PRIMARY KEY,
  algorithm text NOT NULL,
  private_jwk jsonb NOT NULL,
  public_jwk jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  retired_at timestamptz
);
