import type { Router } from "../../router/server.ts";
import { counterTotal } from "./stack.ts";

/**
 * How many subgraph fetches `router` has made so far, over every subgraph and outcome; 0 while the
 * counter does not exist yet. For "refused before any subgraph is called" checks: read it before
 * and after the request.
 */
export const subgraphFetchCount = (router: Router): Promise<number> =>
  counterTotal(router.metrics.registry, "router_subgraph_fetches_total").catch(
    () => 0,
  );
