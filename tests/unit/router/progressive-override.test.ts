import { ApolloServer, HeaderMap } from "@apollo/server";
import type { QueryPlan } from "@apollo/query-planner";
import { afterEach, describe, expect, it } from "vitest";
import {
  createProgressiveOverride,
  overrideLabelsOf,
  percentOf,
  resolveLabels,
  type ProgressiveOverrideSettings,
} from "../../../router/progressive-override.ts";
import {
  overrideGateway,
  overrideSupergraph,
  seededRandom,
} from "../../support/override-supergraph.ts";

const QUERY = "{ product { name price stock rating } }";

const DEFAULTS: ProgressiveOverrideSettings = {
  labels: [],
  header: "x-switchyard-override",
  headerLabels: [],
};

interface Served {
  name: string;
  price: string;
  stock: string;
  rating: string;
}

const servers: ApolloServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

async function routerOver({
  percent,
  settings = DEFAULTS,
  seed = 21,
}: {
  percent: number;
  settings?: ProgressiveOverrideSettings;
  seed?: number;
}) {
  const plans = new Set<QueryPlan>();
  const { gateway, fetches } = overrideGateway(
    overrideSupergraph({ percent }),
    {
      experimental_didResolveQueryPlan: ({ queryPlan }) => plans.add(queryPlan),
    },
  );
  const override = createProgressiveOverride({
    settings,
    random: seededRandom(seed),
  });
  override.install(gateway);
  const server = new ApolloServer({ gateway: override.wrap(gateway) });
  servers.push(server);
  await server.start();
  async function ask(headers: Record<string, string> = {}): Promise<Served> {
    const http = {
      method: "POST",
      headers: new HeaderMap(Object.entries(headers)),
      search: "",
      body: {},
    };
    const response = await server.executeOperation({ query: QUERY, http });
    if (response.body.kind !== "single") throw new Error("not single");
    const { data, errors } = response.body.singleResult;
    expect(errors).toBeUndefined();
    return (data as { product: Served }).product;
  }
  return { ask, plans, fetches, override };
}

describe("override labels", () => {
  it("reads percent(N) shares and the supergraph's labels", () => {
    expect(percentOf("percent(25)")).toBe(25);
    expect(percentOf("percent(0.5)")).toBe(0.5);
    expect(percentOf("percent(101)")).toBeUndefined();
    expect(percentOf("new-rating")).toBeUndefined();
    expect(
      overrideLabelsOf(overrideSupergraph({ percent: 30 }).supergraphSdl),
    ).toEqual(["new-rating", "percent(30)"]);
  });

  it("switches a label on from configuration, or from the header only when allowed", () => {
    const known = ["beta", "gamma", "percent(0)"];
    const never = () => 0.99;
    expect(
      resolveLabels({
        known,
        settings: { ...DEFAULTS, labels: ["beta"] },
        headerValue: undefined,
        random: never,
      }).on,
    ).toEqual(["beta"]);
    const fromHeader = resolveLabels({
      known,
      settings: { ...DEFAULTS, headerLabels: ["gamma"] },
      headerValue: "beta, gamma",
      random: never,
    });
    expect(fromHeader.on).toEqual(["gamma"]);
    expect(fromHeader.key).toBe("gamma");
    expect(Object.fromEntries(fromHeader.conditions)).toEqual({
      beta: false,
      gamma: true,
      "percent(0)": false,
    });
  });
});

describe("progressive override through the gateway", () => {
  it("moves the share of requests served by the new subgraph with N", async () => {
    const samples = 300;
    const shares: number[] = [];
    for (const percent of [10, 50, 90]) {
      const { ask } = await routerOver({ percent });
      let modern = 0;
      for (let i = 0; i < samples; i++)
        if ((await ask()).price === "modern") modern++;
      shares.push(modern / samples);
    }
    // Binomial sd at n=300 is at most 0.029: ±0.08 is over 2.7 sd, and the seed fixes the draws anyway.
    expect(shares[0]).toBeGreaterThan(0.1 - 0.08);
    expect(shares[0]).toBeLessThan(0.1 + 0.08);
    expect(shares[1]).toBeGreaterThan(0.5 - 0.08);
    expect(shares[1]).toBeLessThan(0.5 + 0.08);
    expect(shares[2]).toBeGreaterThan(0.9 - 0.08);
    expect(shares[2]).toBeLessThan(0.9 + 0.08);
  });

  it("gives one request one choice for every field behind a label, with one plan per label set", async () => {
    const { ask, plans, fetches } = await routerOver({ percent: 50 });
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const product = await ask();
      expect(product.stock).toBe(product.price);
      expect(product.name).toBe("legacy");
      seen.add(product.price);
    }
    expect(seen).toEqual(new Set(["legacy", "modern"]));
    // The cache is keyed by the label set: 100 requests, two plans (label off, label on), each reused.
    expect(plans.size).toBe(2);
    expect(fetches.get("legacy")).toBe(100);
  });

  it("plans exactly as before when no label is on", async () => {
    const { ask, plans, fetches } = await routerOver({ percent: 0 });
    for (let i = 0; i < 20; i++)
      expect(await ask()).toEqual({
        name: "legacy",
        price: "legacy",
        stock: "legacy",
        rating: "legacy",
      });
    expect(plans.size).toBe(1);
    expect(fetches.get("modern")).toBeUndefined();
  });

  it("on a supergraph without labels, serves every override from the new subgraph with one plan, whatever the header asks", async () => {
    const plans = new Set<QueryPlan>();
    const { gateway, fetches } = overrideGateway(
      overrideSupergraph({ percent: 0, labelled: false }),
      {
        experimental_didResolveQueryPlan: ({ queryPlan }) =>
          plans.add(queryPlan),
      },
    );
    const override = createProgressiveOverride({
      settings: { ...DEFAULTS, headerLabels: ["new-rating"] },
      random: seededRandom(21),
    });
    override.install(gateway);
    const server = new ApolloServer({ gateway: override.wrap(gateway) });
    servers.push(server);
    await server.start();
    expect(override.known()).toEqual([]);
    for (const header of [undefined, "new-rating", "percent(0)"]) {
      const http = {
        method: "POST",
        headers: new HeaderMap(
          header ? [["x-switchyard-override", header]] : [],
        ),
        search: "",
        body: {},
      };
      const response = await server.executeOperation({ query: QUERY, http });
      if (response.body.kind !== "single") throw new Error("not single");
      expect(response.body.singleResult).toEqual({
        data: {
          product: {
            name: "legacy",
            price: "modern",
            stock: "modern",
            rating: "modern",
          },
        },
      });
    }
    expect(plans.size).toBe(1);
    expect(fetches.get("modern")).toBe(3);
  });

  it("serves a custom label from the new subgraph when a request header switches it on", async () => {
    const { ask } = await routerOver({
      percent: 0,
      settings: { ...DEFAULTS, headerLabels: ["new-rating"] },
    });
    expect((await ask()).rating).toBe("legacy");
    expect((await ask({ "x-switchyard-override": "new-rating" })).rating).toBe(
      "modern",
    );
    // percent(0) is not in the allow list: the header cannot force it.
    const forced = await ask({
      "x-switchyard-override": "percent(0),new-rating",
    });
    expect(forced).toMatchObject({ price: "legacy", rating: "modern" });
  });

  it("ignores the header for labels the configuration does not allow", async () => {
    const { ask } = await routerOver({ percent: 0 });
    expect((await ask({ "x-switchyard-override": "new-rating" })).rating).toBe(
      "legacy",
    );
  });

  it("switches a custom label on for every request as a feature flag", async () => {
    const { ask } = await routerOver({
      percent: 0,
      settings: { ...DEFAULTS, labels: ["new-rating"] },
    });
    for (let i = 0; i < 5; i++) expect((await ask()).rating).toBe("modern");
  });
});
