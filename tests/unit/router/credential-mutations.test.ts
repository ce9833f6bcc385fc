import { readFileSync } from "node:fs";
import { Supergraph } from "@apollo/federation-internals";
import {
  buildSchema,
  parse,
  type FieldNode,
  type GraphQLField,
  type OperationDefinitionNode,
} from "graphql";
import { describe, expect, it } from "vitest";
import { acknowledgeSubgraphEnforcedSecurity } from "../../../router/auth/security-features.ts";
import {
  credentialTarget,
  isCredentialMutation,
} from "../../../router/credential-mutations.ts";

type Field = GraphQLField<unknown, unknown>;

describe("credential mutations", () => {
  it("are exactly logIn and signUp in the public API (found from the schema, not from a list)", () => {
    const api = Supergraph.build(
      acknowledgeSubgraphEnforcedSecurity(
        readFileSync("supergraph.graphql", "utf8"),
      ),
    )
      .apiSchema()
      .toGraphQLJSSchema();
    const mutations = Object.values(
      api.getMutationType()!.getFields(),
    ) as Field[];
    expect(
      mutations
        .filter(isCredentialMutation)
        .map((field) => field.name)
        .sort(),
    ).toEqual(["logIn", "signUp"]);
  });

  it("include any mutation added later that takes a password deep in its input, or signs someone in", () => {
    const schema = buildSchema(`
      input Secret { current: String, next: NewPassword }
      input NewPassword { newPassword: String }
      type Session { token: String }
      type Query { ok: Boolean }
      type Mutation { changePassword(input: [Secret!]!): Boolean, magicLink(code: String!): Session, rename(name: String!): Boolean }
    `);
    const fields = schema.getMutationType()!.getFields() as Record<
      string,
      Field
    >;
    expect(isCredentialMutation(fields.changePassword!)).toBe(true);
    expect(isCredentialMutation(fields.magicLink!)).toBe(true);
    expect(isCredentialMutation(fields.rename!)).toBe(false);
  });

  it("name their target account by the email argument, from a literal or a coerced variable, normalised", () => {
    const schema = buildSchema(
      "type Query { ok: Boolean } type Payload { token: String } type Mutation { logIn(email: String!, password: String!): Payload }",
    );
    const logIn = schema.getMutationType()!.getFields().logIn as Field;
    const nodeOf = (query: string) =>
      (parse(query).definitions[0] as OperationDefinitionNode).selectionSet
        .selections[0] as FieldNode;
    const targetOf = (
      query: string,
      variables: Record<string, unknown> | undefined,
    ) => credentialTarget(logIn, nodeOf(query), variables);
    const byVariable =
      'mutation($e: String!) { logIn(email: $e, password: "x") { token } }';
    expect(
      targetOf(
        'mutation { logIn(email: " Ada@Example.com", password: "x") { token } }',
        {},
      ),
    ).toBe("ada@example.com");
    expect(targetOf(byVariable, { e: "ADA@example.com" })).toBe(
      "ada@example.com",
    );
    expect(targetOf(byVariable, undefined)).toBeUndefined();
  });
});
