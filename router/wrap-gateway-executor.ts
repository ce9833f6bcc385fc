import type {
  GatewayExecutor,
  GatewayInterface,
} from "@apollo/server-gateway-interface";

/**
 * `gateway` with every executor it loads passed through `wrap`: how the router layers per-request
 * behaviour (deduplication, progressive-override labels, its own plan executor) over a gateway.
 */
export function wrapGatewayExecutor(
  gateway: GatewayInterface,
  wrap: (executor: GatewayExecutor) => GatewayExecutor,
): GatewayInterface {
  return {
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    async load(options) {
      const loaded = await gateway.load(options);
      return { ...loaded, executor: loaded.executor && wrap(loaded.executor) };
    },
    stop: () => gateway.stop(),
  };
}
