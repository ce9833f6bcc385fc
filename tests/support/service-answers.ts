import { expect } from "vitest";
import type { ServiceResponse } from "../../platform/service-client.ts";

/** An answer outside a service's contract: the operation it answers, its status and body, and the error the client must refuse it with. */
export type OutsideContract<Operation extends string> = readonly [
  operation: Operation,
  status: number,
  body: unknown,
  error: new (...args: never[]) => Error,
];

/**
 * Asserts a client's decoder (`decodePayments`, `decodeProducts`) refuses each answer outside the
 * contract with the error named, instead of guessing what the service meant.
 */
export function expectOutsideContractRefused<Operation extends string>(
  decode: Record<Operation, (answer: ServiceResponse) => unknown>,
  answers: ReadonlyArray<OutsideContract<Operation>>,
): void {
  for (const [operation, status, body, error] of answers)
    expect(
      () => decode[operation]({ status, body }),
      `${operation} ${status} ${JSON.stringify(body)}`,
    ).toThrow(error);
}
