import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  ServiceRefusedError,
  ServiceUnavailableError,
} from "../../../../platform/service-client.ts";
import {
  decodePayments,
  type ChargeOutcome as DecodedCharge,
} from "../../../../subgraphs/orders/clients/payments-client.ts";
import type { ChargeOutcome } from "../../../../subgraphs/payments/charges.ts";
import type { ChargeBody } from "../../../../subgraphs/payments/contract.ts";
import {
  chargeReply,
  refundReply,
} from "../../../../subgraphs/payments/internal-api.ts";
import { expectOutsideContractRefused } from "../../../support/service-answers.ts";

const payment = (status: ChargeBody["status"]): ChargeBody => ({
  paymentId: randomUUID(),
  orderId: randomUUID(),
  status,
  amountMinor: 1250,
  currency: "USD",
});

/**
 * Each charge outcome as the server puts it on the wire (status and body unchanged from before
 * outcomes existed) and as the orders client reads it back.
 */
describe("the payments internal contract: outcome → HTTP → client", () => {
  const captured = payment("CAPTURED");
  const refunded = payment("REFUNDED");
  const declined = payment("DECLINED");
  const failed = payment("FAILED");
  const pending = payment("PENDING");
  const voided = payment("VOIDED");
  type Row = [ChargeOutcome, { status: number; body: unknown }, DecodedCharge];
  /** An outcome the client refuses: its status, the payment with its code, read back as that code. */
  const refusal = (
    kind: "declined" | "failed" | "in-progress" | "voided",
    payment: ChargeBody,
    status: number,
    code: Extract<DecodedCharge, { ok: false }>["code"],
  ): Row => [
    { kind, payment },
    { status, body: { ...payment, code } },
    { ok: false, code },
  ];
  const settled: Row[] = [
    [
      { kind: "charged", payment: captured },
      { status: 200, body: captured },
      { ok: true, paymentId: captured.paymentId },
    ],
    [
      { kind: "charged", payment: refunded },
      { status: 200, body: refunded },
      { ok: true, paymentId: refunded.paymentId },
    ],
    refusal("declined", declined, 402, "PAYMENT_DECLINED"),
    refusal("failed", failed, 422, "PAYMENT_FAILED"),
    refusal("in-progress", pending, 409, "IN_PROGRESS"),
    refusal("voided", voided, 409, "VOIDED"),
  ];
  it.each(settled)("charge %o", (outcome, reply, decoded) => {
    expect(chargeReply(outcome)).toEqual(reply);
    expect(decodePayments.charge(chargeReply(outcome))).toEqual(decoded);
  });

  it("a reused key and an unknown charge are refusals the client does not follow", () => {
    const reused = chargeReply({ kind: "key-reused" });
    expect(reused).toEqual({
      status: 422,
      body: {
        code: "IDEMPOTENCY_KEY_REUSED",
        message: "this idempotency key was used for another charge",
      },
    });
    expect(() => decodePayments.charge(reused)).toThrow(ServiceRefusedError);
    const unknown = chargeReply({ kind: "unknown-charge" });
    expect(unknown).toEqual({ status: 404, body: { code: "NOT_FOUND" } });
    expect(() => decodePayments.charge(unknown)).toThrow(ServiceRefusedError);
  });

  it("refund answers 200 with the payment as it left it, which the client accepts", () => {
    const body = {
      paymentId: randomUUID(),
      orderId: randomUUID(),
      status: "REFUNDED" as const,
    };
    expect(refundReply({ kind: "given-back", payment: body })).toEqual({
      status: 200,
      body,
    });
    expect(() =>
      decodePayments.refund(refundReply({ kind: "given-back", payment: body })),
    ).not.toThrow();
  });

  it("refuses answers outside the contract instead of guessing", () => {
    expectOutsideContractRefused(decodePayments, [
      ["charge", 409, { code: "SOMETHING_ELSE" }, ServiceRefusedError],
      ["charge", 422, { code: "BAD_REQUEST" }, ServiceRefusedError],
      ["charge", 200, {}, ServiceUnavailableError],
      ["refund", 400, { code: "BAD_REQUEST" }, ServiceRefusedError],
    ]);
  });
});
