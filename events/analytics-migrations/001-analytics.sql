-- Owned by the analytics consumer group: orders and revenue per hour (of the events' occurredAt).
CREATE TABLE IF NOT EXISTS analytics.hourly (
  hour timestamptz NOT NULL,
  currency text NOT NULL,
  orders integer NOT NULL DEFAULT 0,
  revenue_minor bigint NOT NULL DEFAULT 0,
  refunds integer NOT NULL DEFAULT 0,
  refunded_minor bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (hour, currency)
);

-- Events already counted: the insert and the increment share one transaction, so a redelivered
-- event is never counted twice.
CREATE TABLE IF NOT EXISTS analytics.inbox (
  event_id uuid PRIMARY KEY,
  counted_at timestamptz NOT NULL DEFAULT now()
);
