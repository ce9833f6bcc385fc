import { describe, expect, it } from "vitest";
import { requiredArgumentsOf } from "../../../../router/query-plan/requires-arguments.ts";
import {
  auditPlanner,
  expectPlansUnchanged,
  planFetches as all,
} from "../../../support/query-plans.ts";

process.env.APOLLO_TELEMETRY_DISABLED = "true";

// The audit suite's own supergraph (tests/fixtures/federation-audit/README.md): `Post.author`
// in d @requires `comments(limit: 3) { authorId }`; `Comment.authorId` lives in c.
const { sdl, plans } = auditPlanner("requires-with-argument");

const CASES = {
  // requires-with-argument_2, _3 and _4 of the audit.
  literal: "{ feed { author { id } comments(limit: 1) { id } } }",
  variable:
    "query ($limit: Int = 1) { feed { author { id } comments(limit: $limit) { id } } }",
  fragments:
    "query ($limit: Int = 1) { feed { author { id } ...Foo ...Bar } } fragment Foo on Post { comments(limit: $limit) { id } } fragment Bar on Post { comments(limit: $limit) { id } }",
};

describe("client fields that clash with a @requires' arguments (audit requires-with-argument_2, _3, _4)", () => {
  it("reads the @requires fields with arguments from the supergraph", () => {
    expect(requiredArgumentsOf(sdl).get("Post")?.get("comments")).toEqual(
      new Set(["limit:3"]),
    );
  });

  it.each(Object.entries(CASES))(
    "keeps the client's comments and the @requires' apart (%s)",
    (_name, query) => {
      const { plain, fixed } = plans(query);
      // The planner alone: one `comments` field, the @requires' `limit: 3`; the client's is gone.
      const plainPost = all(plain).find((f) =>
        f.fetch.operation.includes("comments"),
      )!.fetch.operation;
      expect(plainPost).toContain("comments(limit:3)");
      expect(plainPost).not.toMatch(/comments\(limit:(1|\$limit)\)/);

      const fetched = all(fixed);
      const post = fetched.find((f) => f.fetch.operation.includes("comments"))!;
      expect(post.path).toBe("feed.@");
      // The client's field under its own name, the @requires' one under an alias.
      expect(post.fetch.operation).toMatch(
        /comments__requires:comments\(limit:3\)\{__typename id\}/,
      );
      expect(post.fetch.operation).toMatch(
        /[{} ]comments\(limit:(1|\$limit)\)\{id\}/,
      );
      // authorId is fetched for the @requires' comments, under the alias.
      expect(fetched.map((f) => f.path)).toContain(
        "feed.@.comments__requires.@",
      );
      // The fetch of `author` reads the alias and sends it as `comments`.
      const author = fetched.find((f) =>
        f.fetch.operation.includes("author{"),
      )!;
      expect(JSON.stringify(author.fetch.requires)).toContain(
        '"name":"comments__requires"',
      );
      expect(author.fetch.inputRewrites).toEqual([
        {
          kind: "KeyRenamer",
          path: ["... on Post", "comments__requires"],
          renameKeyTo: "comments",
        },
      ]);
    },
  );

  it("leaves plans alone when nothing clashes", () => {
    expectPlansUnchanged(plans, [
      "{ feed { author { id } } }",
      "{ feed { author { id } comments(limit: 3) { id } } }",
      "{ feed { author { id } mine: comments(limit: 1) { id } } }",
      "{ products { upc shippingEstimate } }",
    ]);
  });
});
