-- The correlation id of the request that placed the order: a saga resumed later (after a crash or
-- a deferral) logs and writes its events under it. NULL for orders placed outside any request.
ALTER TABLE orders.orders ADD COLUMN correlation_id text;
