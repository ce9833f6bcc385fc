import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decodeProducts } from "../../../../subgraphs/orders/clients/products-client.ts";
import { ServiceRefusedError } from "../../../../platform/service-client.ts";
import type { ReservationBody } from "../../../../subgraphs/products/contract.ts";
import type {
  CommitOutcome,
  ReserveOutcome,
} from "../../../../subgraphs/products/inventory.ts";
import {
  commitReply,
  releaseReply,
  reserveReply,
} from "../../../../subgraphs/products/internal-api.ts";
import { expectOutsideContractRefused } from "../../../support/service-answers.ts";

const reservationId = randomUUID();
const productId = randomUUID();
const reservation: ReservationBody = {
  reservationId,
  status: "RESERVED",
  items: [{ productId, quantity: 2, unitPriceMinor: 1000, currency: "USD" }],
};

const prices = [{ productId, unitPriceMinor: 1000, currency: "USD" }];

/**
 * Each outcome of the inventory, as the server puts it on the wire (status and body unchanged from
 * before outcomes existed) and as the orders client reads it back.
 */
describe("the products internal contract: outcome → HTTP → client", () => {
  const reserves: Array<
    [
      ReserveOutcome,
      { status: number; body: unknown },
      ReturnType<typeof decodeProducts.reserve>,
    ]
  > = [
    [
      { kind: "reserved", reservation, created: true },
      { status: 201, body: reservation },
      { ok: true, items: reservation.items },
    ],
    [
      {
        kind: "reserved",
        reservation: { ...reservation, status: "COMMITTED" },
        created: false,
      },
      { status: 200, body: { ...reservation, status: "COMMITTED" } },
      { ok: true, items: reservation.items },
    ],
    [
      { kind: "insufficient-stock", productId, prices },
      {
        status: 409,
        body: { code: "INSUFFICIENT_STOCK", productId, prices },
      },
      { ok: false, code: "INSUFFICIENT_STOCK", productId, prices },
    ],
    [
      { kind: "unknown-product", productId },
      { status: 404, body: { code: "NOT_FOUND", productId } },
      { ok: false, code: "NOT_FOUND", productId },
    ],
    [
      { kind: "released", reservationId },
      { status: 409, body: { code: "RESERVATION_RELEASED", reservationId } },
      { ok: false, code: "RESERVATION_RELEASED" },
    ],
  ];
  it.each(reserves)("reserve %o", (outcome, reply, decoded) => {
    expect(reserveReply(outcome)).toEqual(reply);
    expect(decodeProducts.reserve(reserveReply(outcome))).toEqual(decoded);
  });

  const commits: Array<
    [CommitOutcome, { status: number; body: unknown }, "committed" | "released"]
  > = [
    [
      {
        kind: "committed",
        reservation: { ...reservation, status: "COMMITTED" },
      },
      { status: 200, body: { ...reservation, status: "COMMITTED" } },
      "committed",
    ],
    [
      { kind: "released", reservationId },
      { status: 409, body: { code: "RESERVATION_RELEASED", reservationId } },
      "released",
    ],
    [
      { kind: "unknown-reservation", reservationId },
      { status: 404, body: { code: "NOT_FOUND", reservationId } },
      "released",
    ],
  ];
  it.each(commits)("commit %o", (outcome, reply, decoded) => {
    expect(commitReply(outcome)).toEqual(reply);
    expect(decodeProducts.commit(commitReply(outcome))).toBe(decoded);
  });

  it("release answers 200 RELEASED, which the client accepts", () => {
    const reply = releaseReply({ kind: "released", reservationId });
    expect(reply).toEqual({
      status: 200,
      body: { reservationId, status: "RELEASED" },
    });
    expect(() => decodeProducts.release(reply)).not.toThrow();
  });

  it("refuses answers outside the contract instead of guessing", () => {
    expectOutsideContractRefused(decodeProducts, [
      ["reserve", 409, { code: "SOMETHING_ELSE" }, ServiceRefusedError],
      ["reserve", 400, { code: "BAD_REQUEST" }, ServiceRefusedError],
      ["commit", 400, { code: "BAD_REQUEST" }, ServiceRefusedError],
      ["release", 404, {}, ServiceRefusedError],
    ]);
  });
});
