import { AsyncLocalStorage } from "node:async_hooks";
import type { ApolloGateway } from "@apollo/gateway";
import type { QueryPlan, QueryPlanner } from "@apollo/query-planner";
import type {
  GatewayExecutor,
  GatewayGraphQLRequestContext,
  GatewayInterface,
} from "@apollo/server-gateway-interface";
import { Kind, parse, visit } from "graphql";
import { wrapGatewayExecutor } from "./wrap-gateway-executor.ts";
import { debugRecorder } from "./plan-debug/recorder.ts";

/**
 * Progressive `@override(from: "old", label: "…")`: a field moves from one subgraph to another for
 * a share of requests (`percent(N)`) or for the requests a label is switched on for (a configured
 * feature flag, or a request header naming an allowed label).
 *
 * @apollo/gateway 2.14 plans every request with every label off: its query planner takes
 * `overrideConditions` (label → on/off), but the gateway never passes any, and keys its plan cache
 * by the document alone. So this module owns the three steps the gateway skips, in one place:
 *
 * 1. `wrap()` around the gateway's executor resolves the labels once per request (one random draw
 *    per `percent(N)` label) and runs the execution inside an AsyncLocalStorage holding them;
 * 2. `install()` makes the gateway's query planner read them (`buildQueryPlan(op, {overrideConditions})`);
 * 3. `install()` also makes the gateway's plan cache key carry the active label set, so a plan built
 *    with a label on is never served to a request that has it off.
 *
 * One request is planned once, with one label set, so every fetch of it sees the same choice (a
 * field never comes half from the old subgraph and half from the new). With no label on, the plan,
 * its cache key and the planner call are exactly what the gateway does without this module.
 */

export interface ProgressiveOverrideSettings {
  /** Labels switched on for every request (feature flags). @default [] */
  readonly labels: readonly string[];
  /** Request header listing labels to switch on for that request (comma-separated). @default "x-switchyard-override" */
  readonly header: string;
  /**
   * Labels the header may switch on; any other label it names is ignored, so a client cannot steer
   * traffic onto a path the operator has not opened. @default [] (the header does nothing)
   */
  readonly headerLabels: readonly string[];
}

/** One request's resolution of the supergraph's override labels. */
export interface ActiveLabels {
  /** Labels on for this request, sorted. */
  readonly on: readonly string[];
  /** The plan-cache key part: `on` joined; "" when none is on (the gateway's own key then). */
  readonly key: string;
  /** Every label the supergraph names → on/off: what the query planner takes. */
  readonly conditions: ReadonlyMap<string, boolean>;
}

const NONE: ActiveLabels = Object.freeze({
  on: Object.freeze([]),
  key: "",
  conditions: new Map<string, boolean>(),
});

const PERCENT_LABEL = /^percent\((\d{1,3}(?:\.\d+)?)\)$/;

/** The share (0–100) of a `percent(N)` label, undefined for a custom label. */
export function percentOf(label: string): number | undefined {
  const match = PERCENT_LABEL.exec(label);
  if (!match) return undefined;
  const share = Number(match[1]);
  return share >= 0 && share <= 100 ? share : undefined;
}

/** Every distinct `overrideLabel` of the supergraph's `@join__field` applications, sorted. */
export function overrideLabelsOf(supergraphSdl: string): string[] {
  const labels = new Set<string>();
  visit(parse(supergraphSdl), {
    Directive(node) {
      if (node.name.value !== "join__field") return;
      for (const argument of node.arguments ?? [])
        if (
          argument.name.value === "overrideLabel" &&
          argument.value.kind === Kind.STRING
        )
          labels.add(argument.value.value);
    },
  });
  return [...labels].sort();
}

/**
 * Resolves the supergraph's labels for one request. A label is on when it is configured on, when the
 * header names it and it is allowed there, or, for `percent(N)`, with probability N/100 (one draw
 * per label per request, `random()` in [0, 1)).
 */
export function resolveLabels({
  known,
  settings,
  headerValue,
  random,
}: {
  known: readonly string[];
  settings: ProgressiveOverrideSettings;
  headerValue: string | null | undefined;
  random: () => number;
}): ActiveLabels {
  if (known.length === 0) return NONE;
  const asked = new Set(
    (headerValue ?? "")
      .split(",")
      .map((label) => label.trim())
      .filter((label) => settings.headerLabels.includes(label)),
  );
  const conditions = new Map<string, boolean>();
  const on: string[] = [];
  for (const label of known) {
    const share = percentOf(label);
    const active =
      settings.labels.includes(label) ||
      asked.has(label) ||
      (share !== undefined && random() * 100 < share);
    conditions.set(label, active);
    if (active) on.push(label);
  }
  return on.length === 0 ? NONE : { on, key: on.join(","), conditions };
}

/** The part of the gateway's plan cache this module uses (it clears the cache on a schema change). */
interface PlanStore {
  get(key: string): Promise<QueryPlan | undefined>;
  set(key: string, value: QueryPlan, options?: unknown): Promise<void>;
  delete(key: string): Promise<boolean | void>;
  clear?(): void;
}

/** The gateway's private fields this module hooks (checked at install, so an upgrade fails loudly). */
interface PlanningGateway {
  queryPlanner?: QueryPlanner;
  queryPlanStore?: PlanStore;
}

export function createProgressiveOverride({
  settings,
  random = Math.random,
}: {
  settings: ProgressiveOverrideSettings;
  /** The draw for `percent(N)` labels; tests pass a seeded one. @default Math.random */
  random?: () => number;
}) {
  const current = new AsyncLocalStorage<ActiveLabels>();
  const byContext = new WeakMap<object, ActiveLabels>();
  /** Whether any request has run inside `current` (see wrapExecutor). */
  let entered = false;
  let known: readonly string[] = [];

  /** The request's labels, or none outside a wrapped execution (the gateway's own work). */
  const active = (): ActiveLabels => current.getStore() ?? NONE;
  const keyed = (key: string): string => {
    const labels = active().key;
    // No label on: the gateway's own key, so a supergraph without labels plans and caches as before.
    return labels === "" ? key : `${key}\u0000override:${labels}`;
  };

  function withLabels(planner: QueryPlanner): QueryPlanner {
    const build = planner.buildQueryPlan.bind(planner);
    planner.buildQueryPlan = (operation, options) => {
      const labels = active();
      if (labels.on.length === 0) return build(operation, options);
      return build(operation, {
        ...options,
        overrideConditions: new Map(labels.conditions),
      });
    };
    return planner;
  }

  return {
    /**
     * Hooks the gateway's planner and plan cache; call once, right after constructing the gateway.
     * The planner is replaced on every schema load, so the hook is a property setter that wraps each
     * new planner as the gateway assigns it.
     */
    install(gateway: ApolloGateway): void {
      const host = gateway as unknown as PlanningGateway;
      const store = host.queryPlanStore;
      if (typeof store?.get !== "function" || typeof store.set !== "function")
        throw new Error(
          "@apollo/gateway no longer keeps its plan cache in queryPlanStore: progressive override cannot key it by label",
        );
      host.queryPlanStore = {
        get: (key) => store.get(keyed(key)),
        set: (key, value, options) => store.set(keyed(key), value, options),
        delete: (key) => store.delete(keyed(key)),
        clear: () => store.clear?.(),
      };
      let planner = host.queryPlanner && withLabels(host.queryPlanner);
      Object.defineProperty(gateway, "queryPlanner", {
        configurable: true,
        enumerable: true,
        get: () => planner,
        set: (next: QueryPlanner | undefined) => {
          planner = next && withLabels(next);
        },
      });
      gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
        known = overrideLabelsOf(coreSupergraphSdl);
      });
    },

    /** Resolves each request's labels before `gateway` executes it (and before dedup keys it). */
    wrap(gateway: GatewayInterface): GatewayInterface {
      const wrapExecutor =
        (executor: GatewayExecutor): GatewayExecutor =>
        (requestContext: GatewayGraphQLRequestContext) => {
          const labels = resolveLabels({
            known,
            settings,
            headerValue: requestContext.request.http?.headers.get(
              settings.header,
            ),
            random,
          });
          const context = requestContext.context as object;
          byContext.set(context, labels);
          if (known.length > 0)
            debugRecorder(context)?.record("overrideLabels", {
              known,
              on: labels.on,
            });
          // Until a supergraph has labels, requests run outside the store: `active()` answers NONE
          // there too, and a store never entered costs nothing, while one entered per request has
          // Node propagate it into every promise of every request. Once entered, always entered:
          // outside a `run`, a request could read a store a connection or timer it reuses carried.
          if (labels === NONE && !entered) return executor(requestContext);
          entered = true;
          return current.run(labels, () => executor(requestContext));
        };
      return wrapGatewayExecutor(gateway, wrapExecutor);
    },

    /** The labels resolved for the request with this context ("" key when none is on or not resolved yet). */
    labelsFor(context: object | undefined): ActiveLabels {
      return (context && byContext.get(context)) ?? NONE;
    },

    /** The supergraph's labels, as last loaded. */
    known: (): readonly string[] => known,
  };
}

export type ProgressiveOverride = ReturnType<typeof createProgressiveOverride>;
