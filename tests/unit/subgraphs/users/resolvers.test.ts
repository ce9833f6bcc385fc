import { buildSubgraphSchema } from "@apollo/subgraph";
import { graphql } from "graphql";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Database, type Storage } from "../../../../platform/database.ts";
import { scratchPglite } from "../../../support/pglite.ts";
import { migrate } from "../../../../platform/migrate.ts";
import { createLoaders } from "../../../../subgraphs/users/loaders.ts";
import {
  createPasswordHasher,
  type PasswordHasher,
} from "../../../../subgraphs/users/passwords.ts";
import { createUserRepository } from "../../../../subgraphs/users/repository.ts";
import {
  resolvers,
  type UsersContext,
} from "../../../../subgraphs/users/resolvers.ts";
import { typeDefs, usersModule } from "../../../../subgraphs/users/server.ts";
import { createTokenIssuer } from "../../../../subgraphs/users/tokens.ts";
import { TEST_USERS_OPTIONS } from "../../../support/users.ts";

/** Counts the password work each request does: equal work is what keeps response times equal. */
const work = { hash: 0, verify: 0 };
const hasher = createPasswordHasher({
  cost: TEST_USERS_OPTIONS.passwordHashCost,
});
const passwords: PasswordHasher = {
  ...hasher,
  hash: async (password) => {
    work.hash += 1;
    return hasher.hash(password);
  },
  verify: async (password, stored) => {
    work.verify += 1;
    return hasher.verify(password, stored);
  },
};

const SIGN_UP =
  "mutation($input: SignUpInput!) { signUp(input: $input) { token user { id email name role } } }";
const LOG_IN =
  "mutation($email: String!, $password: String!) { logIn(email: $email, password: $password) { token user { id email name role } } }";

describe("signUp never says whether an email already has an account", () => {
  let storage: Storage;
  let db: Database;
  let context: () => UsersContext;
  const schema = buildSubgraphSchema([{ typeDefs, resolvers }]);

  beforeAll(async () => {
    storage = await scratchPglite();
    db = storage.forService("users");
    await migrate(db, { schema: "users", dir: usersModule().migrationsDir });
    const repo = createUserRepository(db);
    const tokens = createTokenIssuer({
      db,
      issuer: "switchyard-users",
      audience: "switchyard",
      ttlSeconds: 600,
    });
    context = () => ({
      repo,
      tokens,
      passwords,
      loaders: createLoaders(repo),
      principal: null,
    });
  });
  afterAll(async () => {
    await storage?.close();
  });
  beforeEach(() => Object.assign(work, { hash: 0, verify: 0 }));

  /** What the caller receives, as JSON, with the operation's own name taken out of error paths. */
  async function answer(
    source: string,
    variableValues: Record<string, unknown>,
  ) {
    const result = await graphql({
      schema,
      source,
      variableValues,
      contextValue: context(),
    });
    return JSON.parse(
      JSON.stringify({
        data: result.data ?? null,
        errors: result.errors?.map((error) => ({
          message: error.message,
          extensions: error.extensions,
        })),
      }),
    );
  }
  const signUp = (email: string, password: string, name = "Someone") =>
    answer(SIGN_UP, { input: { email, name, password } });

  it("with another password, a taken email gets exactly the answer logIn gives to a wrong password, and no word about existing", async () => {
    await signUp("taken@example.test", "the owner password");
    const probe = await signUp("taken@example.test", "an attacker guess");
    expect(probe).toEqual(
      await answer(LOG_IN, {
        email: "taken@example.test",
        password: "an attacker guess",
      }),
    );
    expect(probe).toEqual({
      data: null,
      errors: [
        {
          message: "invalid email or password",
          extensions: { code: "UNAUTHENTICATED" },
        },
      ],
    });
    expect(JSON.stringify(probe)).not.toMatch(
      /exist|taken|already|registered/i,
    );
  });

  it("with the owner password, a taken email answers like a new sign-up: signed in, as that account", async () => {
    const fresh = await signUp(
      "repeat@example.test",
      "the owner password",
      "Owner",
    );
    const repeated = await signUp(
      "repeat@example.test",
      "the owner password",
      "Another name",
    );
    expect(fresh.errors).toBeUndefined();
    expect(repeated.errors).toBeUndefined();
    expect(repeated.data.signUp.user).toEqual(fresh.data.signUp.user);
    expect(Object.keys(repeated.data.signUp)).toEqual(
      Object.keys(fresh.data.signUp),
    );
    expect(decodeJwt(repeated.data.signUp.token).sub).toBe(
      fresh.data.signUp.user.id,
    );
  });

  it("does the same password work for a new and a taken email: one verification and one hash", async () => {
    await signUp("work-taken@example.test", "the owner password");
    const cases = [
      ["a new email", "work-new@example.test", "a new password"],
      [
        "a taken email, another password",
        "work-taken@example.test",
        "an attacker guess",
      ],
      [
        "a taken email, its own password",
        "work-taken@example.test",
        "the owner password",
      ],
    ] as const;
    for (const [label, email, password] of cases) {
      Object.assign(work, { hash: 0, verify: 0 });
      await signUp(email, password);
      expect(work, label).toEqual({ hash: 1, verify: 1 });
    }
  });

  it("two concurrent sign-ups with one new email make one account: the same password signs both in, another is refused", async () => {
    const same = await Promise.all([
      signUp("race@example.test", "the same password"),
      signUp("race@example.test", "the same password"),
    ]);
    expect(same.map((result) => result.errors)).toEqual([undefined, undefined]);
    expect(same[0].data.signUp.user.id).toBe(same[1].data.signUp.user.id);
    const different = await Promise.all([
      signUp("race-2@example.test", "first password"),
      signUp("race-2@example.test", "second password"),
    ]);
    expect(
      different.filter((result) => result.errors === undefined),
    ).toHaveLength(1);
    expect(different.find((result) => result.errors)!.errors).toEqual([
      {
        message: "invalid email or password",
        extensions: { code: "UNAUTHENTICATED" },
      },
    ]);
    const [{ count }] = (await db.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM users.users WHERE email LIKE 'race%'`,
    )) as [{ count: number }];
    expect(count).toBe(2);
  });
});
