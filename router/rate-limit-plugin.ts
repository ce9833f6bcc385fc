import type { ApolloServerPlugin } from "@apollo/server";
import { HeaderMap } from "@apollo/server";
import {
  getGraphQLRateLimiter,
  RedisStore,
  type Identity,
  type Store,
} from "graphql-rate-limit";
import type {
  GraphQLField,
  GraphQLResolveInfo,
  GraphQLSchema,
  OperationTypeNode,
} from "graphql";
import { Redis } from "ioredis";
import { codedError } from "../platform/errors.ts";
import type { Counter } from "prom-client";
import type { Logger } from "../platform/logger.ts";
import type { RouterContext } from "./context.ts";
import {
  credentialTarget,
  isCredentialMutation,
} from "./credential-mutations.ts";
import { coercedVariables, operationShape } from "./operation-limits-plugin.ts";

export interface RateLimit {
  readonly max: number;
  readonly windowMs: number;
}

export interface RateLimitConfig {
  /** Calls per root field per client per window. @default { max: 300, windowMs: 60000 } */
  readonly default: RateLimit;
  /** Overrides by root field coordinate, e.g. `Mutation.logIn`. */
  readonly fields: Readonly<Record<string, RateLimit>>;
  /** Shared store so several routers enforce one budget; unset = in-process memory. */
  readonly redisUrl: string | undefined;
  /** Prefix of every Redis key. @default "switchyard:rate-limit:" */
  readonly redisKeyPrefix: string;
}

/**
 * The in-process store. graphql-rate-limit's InMemoryStore keeps every identity it ever saw and
 * copies its whole state object on every write, so memory and per-request cost grow with the number
 * of distinct clients (an attacker rotating addresses grows both without bound). This one keeps a
 * Map and drops an entry once its newest call has left the window, sweeping every `sweepEvery` writes.
 */
export class SweepingMemoryStore implements Store {
  private readonly entries = new Map<
    string,
    { timestamps: readonly number[]; expiresAt: number }
  >();
  private writes = 0;

  constructor(
    private readonly options: { now?: () => number; sweepEvery?: number } = {},
  ) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private static key(identity: Identity): string {
    return `${identity.contextIdentity}\u0000${identity.fieldIdentity}`;
  }

  setForIdentity(
    identity: Identity,
    timestamps: readonly number[],
    windowMs = 60_000,
  ): void {
    // The limiter hands over a fresh array it never touches again, oldest first: kept as is (no copy,
    // no spread of a possibly long list into Math.max), it expires a window after its newest call.
    let newest = 0;
    for (const timestamp of timestamps)
      if (timestamp > newest) newest = timestamp;
    this.entries.set(SweepingMemoryStore.key(identity), {
      timestamps,
      expiresAt: newest + windowMs,
    });
    this.writes += 1;
    if (this.writes % (this.options.sweepEvery ?? 1000) === 0) this.sweep();
  }

  getForIdentity(identity: Identity): readonly number[] {
    const key = SweepingMemoryStore.key(identity);
    const entry = this.entries.get(key);
    if (!entry) return [];
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return [];
    }
    return entry.timestamps;
  }

  sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.entries)
      if (entry.expiresAt <= now) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * Per-client, per-root-field rate limiting with graphql-rate-limit's limiter. Its schema directive
 * cannot work here: the router executes a query plan, not resolvers, so the limiter is called from
 * `didResolveOperation` once per root field use (an aliased field twice counts twice), before any
 * subgraph is called. The client is the verified user id, else the client address (the socket's
 * peer, or what a trusted proxy says); credential mutations are counted by address and target
 * account instead (see admitMutation).
 *
 * Rejected calls are not recorded (`uncountRejected`), so a client that keeps knocking is let in
 * again as soon as its oldest counted call leaves the window, which is what `retryAfter` promises.
 */
export interface AdmitOptions {
  /** Count a refusal in `router_rate_limit_rejections_total` (off when Apollo Server will check again). @default true */
  readonly countRejection?: boolean;
}

export interface RateLimitPlugin extends ApolloServerPlugin<RouterContext> {
  admit(
    context: RouterContext,
    operationKind: OperationTypeNode,
    rootFields: readonly string[],
    options?: AdmitOptions,
  ): Promise<void>;
  close(): Promise<void>;
}

export function createRateLimitPlugin({
  config,
  logger,
  rejections,
}: {
  config: RateLimitConfig;
  logger: Logger;
  /** Counts refused calls by root field. */ rejections?: Counter<"field">;
}): RateLimitPlugin {
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, {
        keyPrefix: config.redisKeyPrefix,
        maxRetriesPerRequest: 1,
        enableOfflineQueue: true,
      })
    : undefined;
  redis?.on("error", (error) =>
    logger.warn({ err: error }, "rate-limit store unavailable"),
  );
  const store: Store = redis
    ? new RedisStore(redis)
    : new SweepingMemoryStore();
  // The identity is chosen per call (admitUse), not read from the request: credential mutations
  // count against the client address and the target account, whoever the token says is calling.
  const limiter = getGraphQLRateLimiter({
    identifyContext: (identity: { id: string }) => identity.id,
    store,
  });

  async function retryAfterSeconds(
    identity: string,
    field: string,
    limit: RateLimit,
  ): Promise<number> {
    const timestamps = [
      ...(await store.getForIdentity({
        contextIdentity: identity,
        fieldIdentity: field,
      })),
    ].sort((a, b) => a - b);
    // The call that frees a slot is the one `max` places before the newest: when it expires, one fits.
    const freeing =
      timestamps[timestamps.length - limit.max] ?? timestamps[0] ?? Date.now();
    return Math.max(
      1,
      Math.ceil((freeing + limit.windowMs - Date.now()) / 1000),
    );
  }

  /** Counts one call of `field` against each identity; throws RATE_LIMITED (429) at the first one over its limit. */
  async function admitUse(
    contextValue: RouterContext,
    field: string,
    identities: readonly string[],
    countRejection: boolean,
  ): Promise<void> {
    const limit = config.fields[field] ?? config.default;
    for (const identity of identities) {
      let rejected: string | undefined;
      try {
        // The limiter reads only `fieldName` from info (and `args` for identityArgs, unused here).
        const info = { fieldName: field } as GraphQLResolveInfo;
        rejected = await limiter(
          { parent: undefined, args: {}, context: { id: identity }, info },
          {
            max: limit.max,
            window: `${limit.windowMs}ms`,
            uncountRejected: true,
          },
        );
      } catch (error) {
        // Fail open: a Redis outage must not take the whole API down. It is logged and alerted on.
        logger.error(
          { err: error, field },
          "rate-limit check failed; request allowed",
        );
        continue;
      }
      if (rejected === undefined) continue;
      const retryAfter = await retryAfterSeconds(identity, field, limit).catch(
        () => Math.ceil(limit.windowMs / 1000),
      );
      if (countRejection) rejections?.inc({ field });
      logger.info(
        {
          clientId: contextValue.clientId,
          clientAddress: contextValue.clientAddress,
          identity,
          field,
          max: limit.max,
          windowMs: limit.windowMs,
        },
        "rate limited",
      );
      const error = codedError(
        "RATE_LIMITED",
        `too many ${field} calls; retry in ${retryAfter}s`,
        { field, retryAfter },
      );
      error.extensions.http = {
        status: 429,
        headers: new HeaderMap([["retry-after", String(retryAfter)]]),
      };
      throw error;
    }
  }

  /**
   * Counts one call of each root field for the caller (its user id, else its address); throws
   * RATE_LIMITED (429) when one is over its limit. Shared by the plugin and by the router's response
   * sharing, which admits a request that joins an identical one in flight without running it
   * through Apollo Server (queries only: credential mutations never take that path).
   */
  async function admit(
    contextValue: RouterContext,
    operationKind: OperationTypeNode,
    rootFields: readonly string[],
    { countRejection = true }: AdmitOptions = {},
  ): Promise<void> {
    const rootType =
      operationKind === "query"
        ? "Query"
        : operationKind === "mutation"
          ? "Mutation"
          : "Subscription";
    for (const name of rootFields)
      await admitUse(
        contextValue,
        `${rootType}.${name}`,
        [contextValue.clientId],
        countRejection,
      );
  }

  /**
   * A mutation's root fields, credential ones counted by client address (never by the token's user:
   * a fresh account must not bring a fresh budget for guessing someone else's password, or for
   * creating more accounts) and, when they name an account (`logIn(email:)`), by that account too,
   * so guesses spread over many addresses still meet one budget per victim.
   */
  async function admitMutation(
    contextValue: RouterContext,
    schema: GraphQLSchema,
    shape: ReturnType<typeof operationShape>,
    variables: () => Record<string, unknown> | undefined,
  ): Promise<void> {
    const fields = schema.getMutationType()?.getFields() as
      Record<string, GraphQLField<unknown, unknown>> | undefined;
    for (const node of shape.rootFieldNodes) {
      const field = `Mutation.${node.name.value}`;
      const definition = fields?.[node.name.value];
      if (!definition || !isCredentialMutation(definition)) {
        await admitUse(contextValue, field, [contextValue.clientId], true);
        continue;
      }
      const target = credentialTarget(definition, node, variables());
      await admitUse(
        contextValue,
        field,
        [
          `ip:${contextValue.clientAddress}`,
          ...(target === undefined ? [] : [`account:${target}`]),
        ],
        true,
      );
    }
  }

  return {
    admit,
    async requestDidStart() {
      return {
        async didResolveOperation({
          operation,
          document,
          contextValue,
          schema,
          request,
        }) {
          // Already counted by the router when it admitted this request to share a response.
          if (!operation || contextValue.rateLimitAdmitted) return;
          const shape = operationShape(document, operation);
          if (operation.operation !== "mutation")
            return admit(contextValue, operation.operation, shape.rootFields);
          let variables: Record<string, unknown> | undefined | null = null;
          await admitMutation(contextValue, schema, shape, () =>
            variables === null
              ? (variables = coercedVariables(
                  schema,
                  operation,
                  request.variables ?? {},
                ))
              : variables,
          );
        },
      };
    },
    async close() {
      await redis?.quit().catch(() => redis.disconnect());
    },
  };
}
