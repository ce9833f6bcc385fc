import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, type Storage } from "../../../../platform/database.ts";
import { scratchPglite } from "../../../support/pglite.ts";
import { DEMO_PASSWORD, demoUsers } from "../../../../platform/demo-data.ts";
import { migrate } from "../../../../platform/migrate.ts";
import { verifyPassword } from "../../../../subgraphs/users/passwords.ts";
import {
  createUsersSubgraph,
  usersModule,
} from "../../../../subgraphs/users/server.ts";
import {
  asAdmin,
  asCustomer,
  subgraphForTests,
} from "../../../support/subgraph.ts";
import { TEST_USERS_OPTIONS } from "../../../support/users.ts";

const [admin, ada, grace] = [demoUsers[0]!, demoUsers[1]!, demoUsers[2]!];
const LOG_IN =
  "mutation($email: String!, $password: String!) { logIn(email: $email, password: $password) { token user { id email role } } }";
const SIGN_UP =
  "mutation($input: SignUpInput!) { signUp(input: $input) { token user { id email name role } } }";

describe("the users subgraph (createUsersSubgraph, in-process on PGlite)", () => {
  const users = subgraphForTests(usersModule(TEST_USERS_OPTIONS), (deps) =>
    createUsersSubgraph(deps, TEST_USERS_OPTIONS),
  );

  it("logs a demo user in with an ES256 token the JWKS route verifies, naming the user and role", async () => {
    const { data, errors } = await users.query(LOG_IN, {
      email: ada.email.toUpperCase(),
      password: DEMO_PASSWORD,
    });
    expect(errors).toBeUndefined();
    expect(data.logIn.user).toEqual({
      id: ada.id,
      email: ada.email,
      role: "CUSTOMER",
    });
    const jwks = (await (
      await fetch(`${users.url}/.well-known/jwks.json`)
    ).json()) as JSONWebKeySet;
    const { payload, protectedHeader } = await jwtVerify(
      data.logIn.token,
      createLocalJWKSet(jwks),
      {
        issuer: TEST_USERS_OPTIONS.jwtIssuer,
        audience: TEST_USERS_OPTIONS.jwtAudience,
      },
    );
    expect(protectedHeader.alg).toBe("ES256");
    expect(payload).toMatchObject({
      sub: ada.id,
      role: "CUSTOMER",
      scope: "customer",
    });
  });

  it("answers a wrong password and an unknown email alike, with UNAUTHENTICATED", async () => {
    const wrong = await users.query(LOG_IN, {
      email: ada.email,
      password: "not-the-password",
    });
    const unknown = await users.query(LOG_IN, {
      email: "nobody@switchyard.dev",
      password: DEMO_PASSWORD,
    });
    expect(wrong.errors?.[0]).toMatchObject({
      message: "invalid email or password",
      extensions: { code: "UNAUTHENTICATED" },
    });
    expect(unknown.errors?.[0]).toMatchObject({
      message: "invalid email or password",
      extensions: { code: "UNAUTHENTICATED" },
    });
  });

  it("signs a new customer up (email normalised), refuses weak input by field, and lets them log in; a repeated sign-up reveals nothing", async () => {
    const input = {
      email: "  Hedy@Switchyard.DEV ",
      name: "Hedy Lamarr",
      password: "frequency-hopping",
    };
    expect(
      (
        await users.query(SIGN_UP, {
          input: { ...input, email: "not-an-email" },
        })
      ).errors?.[0]?.extensions,
    ).toMatchObject({ code: "BAD_USER_INPUT", field: "input.email" });
    expect(
      (await users.query(SIGN_UP, { input: { ...input, password: "short" } }))
        .errors?.[0]?.extensions,
    ).toMatchObject({ code: "BAD_USER_INPUT", field: "input.password" });
    expect(
      (await users.query(SIGN_UP, { input: { ...input, name: " " } }))
        .errors?.[0]?.extensions,
    ).toMatchObject({ code: "BAD_USER_INPUT", field: "input.name" });

    const { data, errors } = await users.query(SIGN_UP, { input });
    expect(errors).toBeUndefined();
    expect(data.signUp.user).toMatchObject({
      email: "hedy@switchyard.dev",
      name: "Hedy Lamarr",
      role: "CUSTOMER",
    });
    // Signing up again reveals nothing new: the same credentials sign in to the same account, others are refused like a wrong password.
    expect((await users.query(SIGN_UP, { input })).data.signUp.user.id).toBe(
      data.signUp.user.id,
    );
    expect(
      (
        await users.query(SIGN_UP, {
          input: { ...input, password: "another-password" },
        })
      ).errors?.[0],
    ).toMatchObject({
      message: "invalid email or password",
      extensions: { code: "UNAUTHENTICATED" },
    });
    expect(
      (
        await users.query(LOG_IN, {
          email: "hedy@switchyard.dev",
          password: input.password,
        })
      ).data.logIn.user.id,
    ).toBe(data.signUp.user.id);
  });

  it("answers me for the principal the router vouched for, and null when anonymous", async () => {
    expect(
      (await users.query("{ me { id name email } }", {}, asCustomer(grace.id)))
        .data.me,
    ).toEqual({ id: grace.id, name: grace.name, email: grace.email });
    expect((await users.query("{ me { id } }")).data.me).toBeNull();
  });

  it("shows email and role to the user and admins only, names to anyone", async () => {
    const query = "query($id: ID!) { user(id: $id) { name email } }";
    expect(
      (await users.query(query, { id: ada.id }, asCustomer(ada.id))).data.user,
    ).toEqual({ name: ada.name, email: ada.email });
    expect(
      (await users.query(query, { id: ada.id }, asAdmin(admin.id))).data.user,
    ).toEqual({ name: ada.name, email: ada.email });
    const other = await users.query(
      query,
      { id: ada.id },
      asCustomer(grace.id),
    );
    expect(other.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(
      (
        await users.query(
          "query($id: ID!) { user(id: $id) { name } }",
          { id: ada.id },
          asCustomer(grace.id),
        )
      ).data.user,
    ).toEqual({ name: ada.name });
    expect(
      (
        await users.query("query($id: ID!) { user(id: $id) { name } }", {
          id: ada.id,
        })
      ).errors?.[0]?.extensions?.code,
    ).toBe("UNAUTHENTICATED");
  });

  it("resolves User entities for the router, null for unknown or malformed ids", async () => {
    const { data, errors } = await users.query(
      "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id name } } }",
      {
        r: [
          { __typename: "User", id: grace.id },
          { __typename: "User", id: "00000000-0000-4000-8000-000000000000" },
          { __typename: "User", id: "nope" },
        ],
      },
    );
    expect(errors).toBeUndefined();
    expect(data._entities).toEqual([
      { id: grace.id, name: grace.name },
      null,
      null,
    ]);
  });
});

describe("the users module seed", () => {
  let storage: Storage;
  let db: Database;
  beforeAll(async () => {
    storage = await scratchPglite();
    db = storage.forService("users");
    await migrate(db, { schema: "users", dir: usersModule().migrationsDir });
  });
  afterAll(async () => {
    await storage?.close();
  });

  it("gives every demo account the configured password, not the published one", async () => {
    const module = usersModule({
      ...TEST_USERS_OPTIONS,
      demoPassword: "an operator chose this one",
    });
    await db.transaction((tx) => module.seed(tx));
    const rows = await db.query<{ email: string; password_hash: string }>(
      "SELECT email, password_hash FROM users.users ORDER BY email",
    );
    expect(rows.map((row) => row.email).sort()).toEqual(
      demoUsers.map((user) => user.email).sort(),
    );
    for (const row of rows) {
      expect(
        await verifyPassword("an operator chose this one", row.password_hash),
        row.email,
      ).toBe(true);
      expect(
        await verifyPassword(DEMO_PASSWORD, row.password_hash),
        row.email,
      ).toBe(false);
    }
  });
});
