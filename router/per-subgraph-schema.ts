import type { JsonSchema } from "../platform/settings.ts";

/**
 * The JSON Schema of a router setting given for `all` subgraphs and per subgraph
 * (`subgraphs.<name>`), each entry of `entry`'s schema, beside the setting's own `properties`
 * (header rules' `response`): what router.headers and router.subgraph_errors accept.
 */
export function perSubgraphSchema(
  entry: JsonSchema,
  properties: Readonly<Record<string, JsonSchema>> = {},
): JsonSchema {
  return {
    type: "object",
    additionalProperties: false,
    properties: {
      all: entry,
      subgraphs: { type: "object", additionalProperties: entry },
      ...properties,
    },
  };
}
