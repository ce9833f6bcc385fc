import { define, readSetting, type Env } from "../../platform/settings.ts";
import type { DemandControlSettings } from "./plugin.ts";

/** Demand control's settings (spread into ROUTER_SETTINGS, read by readDemandControlSettings). */
export const DEMAND_CONTROL_SETTINGS = Object.freeze({
  demandControlMode: define.oneOf(["measure", "enforce"], {
    env: "ROUTER_DEMAND_CONTROL_MODE",
    key: "router.demand_control.mode",
    default: "enforce",
    description:
      "`enforce` refuses an operation whose estimated cost (IBM cost spec, docs/demand-control.md) exceeds the limit with 400 QUERY_TOO_COMPLEX; `measure` only records it",
  }),
  // The variable and key of today's cost limit are kept, so existing deployments keep their limit.
  maxCost: define.int([1, 100_000_000], {
    env: "ROUTER_MAX_COST",
    key: "router.limits.max_cost",
    default: 3000,
    description:
      "estimated-cost limit (one page of 1000 products with their edges costs 2001; two do not pass)",
  }),
  // 1, as the field-count limit before it: a list with no size information counts once. The
  // federation benchmark's supergraph (bench/guild) has no @listSize; at 10, its deep query nests four
  // lists and would cost 23,315 (32 at 1). Size lists with @listSize instead of raising this.
  demandControlListSize: define.int([1, 100_000], {
    env: "ROUTER_DEMAND_CONTROL_LIST_SIZE",
    key: "router.demand_control.default_list_size",
    default: 1,
    description:
      "size assumed for a list with neither `@listSize` nor a `first` argument (declare `@listSize` in the subgraph schema rather than raising this)",
  }),
});

export function readDemandControlSettings(env: Env): DemandControlSettings {
  return Object.freeze({
    mode: readSetting(env, DEMAND_CONTROL_SETTINGS.demandControlMode),
    maxCost: readSetting(env, DEMAND_CONTROL_SETTINGS.maxCost),
    defaultListSize: readSetting(
      env,
      DEMAND_CONTROL_SETTINGS.demandControlListSize,
    ),
  });
}
