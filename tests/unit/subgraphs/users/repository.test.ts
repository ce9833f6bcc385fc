import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Database } from "../../../../platform/database.ts";
import { demoUsers } from "../../../../platform/demo-data.ts";
import {
  createUserRepository,
  type UserRepository,
} from "../../../../subgraphs/users/repository.ts";
import { usersModule } from "../../../../subgraphs/users/server.ts";
import { withMigratedDb } from "../../../support/subgraph.ts";

describe("the users repository on PGlite", () => {
  let db: Database;
  let repo: UserRepository;

  // No demo seed: hashing the demo password is the slow part, and these tests insert their own rows.
  withMigratedDb(
    usersModule(),
    (opened) => {
      db = opened;
      repo = createUserRepository(db);
    },
    { seed: false },
  );

  it("inserts a user and reads it back by id (in key order, null where missing) and with its hash by email", async () => {
    const [first, second] = [randomUUID(), randomUUID()];
    await repo.insertIfNew({
      id: first,
      email: "first@example.test",
      name: "First",
      role: "CUSTOMER",
      passwordHash: "hash-1",
    });
    await repo.insertIfNew({
      id: second,
      email: "second@example.test",
      name: "Second",
      role: "ADMIN",
      passwordHash: "hash-2",
    });
    const before = db.queryCount;
    const rows = await repo.usersByIds([second, randomUUID(), first]);
    expect(db.queryCount - before).toBe(1);
    expect(
      rows.map((row) => row && { name: row.name, role: row.role }),
    ).toEqual([
      { name: "Second", role: "ADMIN" },
      null,
      { name: "First", role: "CUSTOMER" },
    ]);
    expect(rows[0]).not.toHaveProperty("password_hash");
    expect(await repo.credentialsByEmail("first@example.test")).toMatchObject({
      id: first,
      password_hash: "hash-1",
    });
    expect(await repo.credentialsByEmail(demoUsers[1]!.email)).toBeUndefined();
  });

  it("inserts a second account with a taken email as nothing at all, leaving the first as it was", async () => {
    const first = randomUUID();
    expect(
      await repo.insertIfNew({
        id: first,
        email: "taken@example.test",
        name: "One",
        role: "CUSTOMER",
        passwordHash: "h1",
      }),
    ).toMatchObject({ id: first, name: "One" });
    expect(
      await repo.insertIfNew({
        id: randomUUID(),
        email: "taken@example.test",
        name: "Two",
        role: "CUSTOMER",
        passwordHash: "h2",
      }),
    ).toBeUndefined();
    expect(await repo.credentialsByEmail("taken@example.test")).toMatchObject({
      id: first,
      name: "One",
      password_hash: "h1",
    });
  });
});
