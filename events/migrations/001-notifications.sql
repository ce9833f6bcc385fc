-- Owned by the notification pipeline (worker, dispatchers) and read by the notifications subgraph.

-- Events the worker has turned into jobs: a redelivered event (same eventId) is skipped.
CREATE TABLE IF NOT EXISTS notifications.inbox (
  event_id uuid PRIMARY KEY,
  event_type text NOT NULL,
  jobs integer NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);

-- Events that failed envelope validation: kept for an operator instead of blocking their partition.
CREATE TABLE IF NOT EXISTS notifications.rejected_events (
  id bigserial PRIMARY KEY,
  topic text NOT NULL,
  kafka_partition integer NOT NULL,
  kafka_offset text NOT NULL,
  reason text NOT NULL,
  raw text NOT NULL,
  rejected_at timestamptz NOT NULL DEFAULT now()
);

-- One row per notification (id = eventId:channel), whatever happened to it.
CREATE TABLE IF NOT EXISTS notifications.deliveries (
  notification_id text PRIMARY KEY,
  user_id text NOT NULL,
  channel text NOT NULL,
  subject text NOT NULL,
  event_id uuid NOT NULL,
  event_type text NOT NULL,
  correlation_id text NOT NULL,
  status text NOT NULL,
  attempts integer NOT NULL,
  transport text,
  last_error text,
  -- While SENDING: when the claim lapses and another dispatcher may try (a crashed sender).
  claimed_until timestamptz,
  delivered_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS notifications_deliveries_user_idx ON notifications.deliveries (user_id, delivered_at DESC, notification_id) WHERE status = 'DELIVERED';
