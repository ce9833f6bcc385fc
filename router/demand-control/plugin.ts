/**
 * Demand control: every operation's cost by the IBM cost spec (./cost.ts) is estimated before the
 * gateway plans it and measured on the response after execution. `enforce` refuses an estimate
 * over `maxCost` with 400 QUERY_TOO_COMPLEX (`extensions.limit: "cost"`) before any subgraph is
 * called; `measure` only records. The figures go to metrics, to the response's
 * `extensions.cost` when the request asks (`"extensions": {"cost": true}`), and to
 * `costFiguresOf(context)` for other router modules (the plan-debug view).
 */
import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import { type DocumentNode, type GraphQLSchema } from "graphql";
import { Counter, Histogram, type Registry } from "prom-client";
import { codedError } from "../../platform/errors.ts";
import { MAX_PAGE_SIZE } from "../../platform/pagination.ts";
import { coercedVariables } from "../operation-limits-plugin.ts";
import {
  actualCost,
  estimateCost,
  fragmentsOf,
  NO_COST_DIRECTIVES,
  readCostDirectives,
  type CostDirectives,
  type CostOptions,
} from "./cost.ts";

export type DemandControlMode = "measure" | "enforce";

export interface DemandControlSettings {
  /** `enforce` refuses an estimate over `maxCost`; `measure` only records. @default "enforce" */
  readonly mode: DemandControlMode;
  /** Largest estimated cost. @default 3000 */
  readonly maxCost: number;
  /** Size of a list with neither `@listSize` nor `first`. @default 1 */
  readonly defaultListSize: number;
  /**
   * Size assumed for a slicing argument the router cannot know (an explicit null, or variables
   * that do not coerce): the largest page a subgraph serves, so an unknown size is never cheaper
   * than any size a client could have asked for. @default 1000 (platform/pagination.ts)
   */
  readonly maxPageSize?: number;
}

/** What demand control found for one request. */
export interface CostFigures {
  readonly mode: DemandControlMode;
  readonly max: number;
  readonly estimated: number;
  /** Set after execution, from the response's data. */
  actual?: number;
  /** `COST_OK`, or `COST_ESTIMATED_TOO_EXPENSIVE` (refused in enforce, recorded in measure). */
  readonly result: "COST_OK" | "COST_ESTIMATED_TOO_EXPENSIVE";
}

/** Per request, by its context object: read with costFiguresOf. */
const figuresByContext = new WeakMap<object, CostFigures>();

/** The cost figures of the request whose context this is (undefined before the operation resolved). */
export function costFiguresOf(context: object): CostFigures | undefined {
  return figuresByContext.get(context);
}

export interface DemandControl {
  readonly plugin: ApolloServerPlugin<BaseContext>;
  /** Reads `@cost`/`@listSize` from the (re)loaded supergraph SDL. */
  useSupergraph(sdl: string): void;
}

/** Whether the request asked for the figures in the response (`"extensions": {"cost": true}`). */
function asked(extensions: Record<string, unknown> | undefined): boolean {
  return extensions?.cost === true;
}

export function createDemandControl({
  settings,
  registry,
}: {
  settings: DemandControlSettings;
  registry?: Registry;
}): DemandControl {
  let directives: CostDirectives = NO_COST_DIRECTIVES;
  let options: CostOptions = optionsFor(directives);
  function optionsFor(current: CostDirectives): CostOptions {
    return {
      directives: current,
      defaultListSize: settings.defaultListSize,
      maxPageSize: settings.maxPageSize ?? MAX_PAGE_SIZE,
    };
  }
  const registers = registry ? [registry] : [];
  const costs = new Histogram({
    name: "router_operation_cost",
    help: "Operation cost by the IBM cost spec: estimated before execution, actual from the response",
    labelNames: ["stage"],
    buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000],
    registers,
  });
  const outcomes = new Counter({
    name: "router_demand_control_operations_total",
    help: "Operations seen by demand control, by mode and result (COST_OK, COST_ESTIMATED_TOO_EXPENSIVE)",
    labelNames: ["mode", "result"],
    registers,
  });
  /**
   * Variable-free estimates by parsed document (Apollo Server hands back the same DocumentNode for
   * the same text), with the schema and directives they were taken on: a reload measures again.
   */
  const cached = new WeakMap<
    DocumentNode,
    Map<string, { schema: GraphQLSchema; options: CostOptions; cost: number }>
  >();

  const plugin: ApolloServerPlugin<BaseContext> = {
    async requestDidStart() {
      return {
        async didResolveOperation({
          operation,
          document,
          schema,
          request,
          contextValue,
        }) {
          if (!operation) return;
          const key = operation.name?.value ?? "";
          let perDocument = cached.get(document);
          let estimated: number | undefined;
          const hit = perDocument?.get(key);
          if (hit && hit.schema === schema && hit.options === options)
            estimated = hit.cost;
          if (estimated === undefined) {
            const variables = coercedVariables(
              schema,
              operation,
              request.variables ?? {},
            );
            estimated = estimateCost({
              schema,
              operation,
              fragments: fragmentsOf(document),
              variables,
              options,
            });
            // Only variables (their values or defaults) make the cost depend on the request.
            if ((operation.variableDefinitions?.length ?? 0) === 0) {
              if (!perDocument) {
                perDocument = new Map();
                cached.set(document, perDocument);
              }
              perDocument.set(key, { schema, options, cost: estimated });
            }
          }
          const over = estimated > settings.maxCost;
          const figures: CostFigures = {
            mode: settings.mode,
            max: settings.maxCost,
            estimated,
            result: over ? "COST_ESTIMATED_TOO_EXPENSIVE" : "COST_OK",
          };
          figuresByContext.set(contextValue, figures);
          costs.observe({ stage: "estimated" }, estimated);
          outcomes.inc({ mode: settings.mode, result: figures.result });
          if (over && settings.mode === "enforce")
            throw codedError(
              "QUERY_TOO_COMPLEX",
              `operation cost ${estimated} exceeds the limit of ${settings.maxCost}`,
              {
                limit: "cost",
                max: settings.maxCost,
                actual: estimated,
                http: { status: 400 },
              },
            );
        },
        async willSendResponse({
          contextValue,
          operation,
          document,
          schema,
          request,
          response,
        }) {
          const figures = figuresByContext.get(contextValue);
          if (
            !figures ||
            !operation ||
            !document ||
            response.body.kind !== "single"
          )
            return;
          const { singleResult } = response.body;
          if (figures.actual === undefined && singleResult.data) {
            figures.actual = actualCost({
              schema,
              operation,
              fragments: fragmentsOf(document),
              variables: coercedVariables(
                schema,
                operation,
                request.variables ?? {},
              ),
              options,
              data: singleResult.data,
            });
            costs.observe({ stage: "actual" }, figures.actual);
          }
          if (!asked(request.extensions)) return;
          // A copy: a deduplicated execution's result object may be shared with another request.
          response.body.singleResult = {
            ...singleResult,
            extensions: { ...singleResult.extensions, cost: { ...figures } },
          };
        },
      };
    },
  };
  return {
    plugin,
    useSupergraph(sdl) {
      directives = readCostDirectives(sdl);
      options = optionsFor(directives);
    },
  };
}
