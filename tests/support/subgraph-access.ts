import { expect } from "vitest";
import { demoUsers } from "../../platform/demo-data.ts";
import type { Principal } from "../../platform/principal.ts";
import type { SubgraphServer } from "../../platform/subgraph-server.ts";
import { asAdmin, asCustomer, type InProcessSubgraph } from "./subgraph.ts";

/** Who reads a customer's record: its owner, an admin, and another customer. */
export interface Readers {
  readonly owner: Principal;
  readonly admin: Principal;
  readonly stranger: Principal;
}

/** The readers of a record owned by the demo customer `ownerId`. */
export function readersOf(ownerId: string): Readers {
  return {
    owner: asCustomer(ownerId),
    admin: asAdmin(demoUsers[0]!.id),
    stranger: asCustomer(
      demoUsers.find((user) => user.role === "CUSTOMER" && user.id !== ownerId)!
        .id,
    ),
  };
}

/** The `extensions.code` of the first error `document` answers when run as `principal`. */
export async function errorCodeOf(
  subgraph: InProcessSubgraph<SubgraphServer>,
  document: string,
  variables: Record<string, unknown>,
  principal: Principal | null = null,
): Promise<unknown> {
  return (await subgraph.query(document, variables, principal)).errors?.[0]
    ?.extensions?.code;
}

/**
 * Asserts a record is shown only to its owner and to admins: the answer's `field` equals
 * `expected` for `owner` and `admin`, another customer gets FORBIDDEN, nobody UNAUTHENTICATED.
 */
export async function expectOwnerAndAdminsOnly(
  subgraph: InProcessSubgraph<SubgraphServer>,
  { owner, admin, stranger }: Readers,
  read: { document: string; variables: Record<string, unknown>; field: string },
  expected: unknown,
): Promise<void> {
  const { document, variables, field } = read;
  for (const reader of [owner, admin]) {
    expect(
      (await subgraph.query(document, variables, reader)).data[field],
    ).toEqual(expected);
  }
  expect(await errorCodeOf(subgraph, document, variables, stranger)).toBe(
    "FORBIDDEN",
  );
  expect(await errorCodeOf(subgraph, document, variables)).toBe(
    "UNAUTHENTICATED",
  );
}
