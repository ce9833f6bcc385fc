import { internalServiceConfigModule } from "../../platform/config.ts";
import { define } from "../../platform/settings.ts";

/** Payments' own settings; the port and the internal-service secret come with every internal service. */
const payments = internalServiceConfigModule("payments", {
  providerTimeoutMs: define.int([10, 60_000], {
    env: "PAYMENT_PROVIDER_TIMEOUT_MS",
    key: "payments.provider_timeout_ms",
    default: 1000,
    description:
      "how long the (simulated) provider may take before a charge fails with PAYMENT_FAILED",
  }),
});

export const PAYMENTS_SETTINGS = payments.settings;
export const PAYMENTS_SETTINGS_READ = payments.read;
export type PaymentsConfig = ReturnType<typeof payments.load>;
export const loadPaymentsConfig = payments.load;
