import { randomUUID } from "node:crypto";

/** What a card network answers. A provider that fails to answer throws ProviderError. */
export type AuthorizationResult =
  | { approved: true; authorizationId: string }
  | { approved: false; reason: string };

export class ProviderError extends Error {
  constructor(
    message: string,
    readonly kind: "timeout" | "error",
  ) {
    super(message);
    this.name = "ProviderError";
  }
}

/** The payment provider port: a real gateway (Stripe, Adyen...) would be another adapter. */
export interface PaymentProvider {
  authorize(input: {
    paymentToken: string;
    amountMinor: number;
    currency: string;
    idempotencyKey: string;
  }): Promise<AuthorizationResult>;
  capture(authorizationId: string): Promise<{ captureId: string }>;
  void(authorizationId: string): Promise<void>;
  refund(captureId: string): Promise<void>;
}

/**
 * Deterministic test cards, so every failure path can be reproduced on purpose:
 * - `tok_visa` / `4242424242424242`: approved
 * - `tok_declined` / `4000000000000002`: declined
 * - `tok_timeout` / `4000000000000119`: the provider never answers in time
 * - `tok_error` / `4000000000000069`: the provider fails
 * Any other token is declined as unknown.
 */
export const TEST_CARDS = {
  approve: "tok_visa",
  decline: "tok_declined",
  timeout: "tok_timeout",
  error: "tok_error",
} as const;

const BEHAVIOUR: Record<string, "approve" | "decline" | "timeout" | "error"> = {
  tok_visa: "approve",
  "4242424242424242": "approve",
  tok_declined: "decline",
  "4000000000000002": "decline",
  tok_timeout: "timeout",
  "4000000000000119": "timeout",
  tok_error: "error",
  "4000000000000069": "error",
};

/** The simulated provider; `timeoutMs` is how long a call may take before the caller gives up. */
export function createSimulatedProvider({
  timeoutMs = 1000,
}: { timeoutMs?: number } = {}): PaymentProvider & {
  readonly captured: ReadonlySet<string>;
} {
  const authorizations = new Map<
    string,
    {
      amountMinor: number;
      state: "authorized" | "captured" | "voided" | "refunded";
    }
  >();
  const captured = new Set<string>();
  return {
    captured,
    async authorize({ paymentToken, amountMinor }) {
      const behaviour = BEHAVIOUR[paymentToken] ?? "unknown";
      if (behaviour === "timeout") {
        await new Promise((resolve) => setTimeout(resolve, timeoutMs));
        throw new ProviderError(
          `provider did not answer within ${timeoutMs} ms`,
          "timeout",
        );
      }
      if (behaviour === "error")
        throw new ProviderError(
          "provider failed: simulated processing error",
          "error",
        );
      if (behaviour !== "approve")
        return {
          approved: false,
          reason: behaviour === "decline" ? "card_declined" : "unknown_card",
        };
      const authorizationId = `auth_${randomUUID()}`;
      authorizations.set(authorizationId, { amountMinor, state: "authorized" });
      return { approved: true, authorizationId };
    },
    async capture(authorizationId) {
      const authorization = authorizations.get(authorizationId);
      if (!authorization || authorization.state !== "authorized")
        throw new ProviderError(`cannot capture ${authorizationId}`, "error");
      authorization.state = "captured";
      captured.add(authorizationId);
      return { captureId: authorizationId.replace("auth_", "cap_") };
    },
    async void(authorizationId) {
      const authorization = authorizations.get(authorizationId);
      if (authorization?.state === "authorized") authorization.state = "voided";
    },
    async refund(captureId) {
      const authorizationId = captureId.replace("cap_", "auth_");
      const authorization = authorizations.get(authorizationId);
      if (authorization?.state === "captured") {
        authorization.state = "refunded";
        captured.delete(authorizationId);
      }
    },
  };
}
