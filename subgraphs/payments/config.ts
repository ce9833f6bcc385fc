import { internalServiceConfigModule } from "../../platform/config.ts";
import { integer, setting } from "../../platform/settings.ts";

/** Payments' own settings; the port and the internal-service secret come with every internal service. */
const payments = internalServiceConfigModule("payments", {
  providerTimeoutMs: setting<number>({
    env: "PAYMENT_PROVIDER_TIMEOUT_MS",
    key: "payments.provider_timeout_ms",
    type: integer({ min: 10, max: 60_000 }),
    default: 1000,
    description:
      "how long the (simulated) provider may take before a charge fails with PAYMENT_FAILED",
  }),
});

export const PAYMENTS_SETTINGS = payments.settings;
export const PAYMENTS_SETTINGS_READ = payments.read;
export type PaymentsConfig = ReturnType<typeof payments.load>;
export const loadPaymentsConfig = payments.load;
