-- One charge per idempotency key (the orders saga uses "charge:<orderId>"): a retried or duplicated
-- charge request finds the row and answers with its outcome instead of charging again.
ALTER TABLE payments.payments ADD COLUMN IF NOT EXISTS idempotency_key text;
ALTER TABLE payments.payments ADD COLUMN IF NOT EXISTS provider_authorization text;
ALTER TABLE payments.payments ADD COLUMN IF NOT EXISTS provider_capture text;
ALTER TABLE payments.payments ADD COLUMN IF NOT EXISTS failure_code text;
CREATE UNIQUE INDEX IF NOT EXISTS payments_idempotency_key_idx ON payments.payments (idempotency_key);
ALTER TABLE payments.payments DROP CONSTRAINT IF EXISTS payments_status_check;
ALTER TABLE payments.payments ADD CONSTRAINT payments_status_check CHECK (status IN ('PENDING', 'AUTHORIZED', 'CAPTURED', 'DECLINED', 'VOIDED', 'REFUNDED', 'FAILED'));
