import type { ApolloServerPlugin } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import { getGraphQLRateLimiter, InMemoryStore, RedisStore, type Store } from 'graphql-rate-limit';
import type { GraphQLResolveInfo } from 'graphql';
import { Redis } from 'ioredis';
import { codedError } from '../platform/errors.ts';
import type { Logger } from '../platform/logger.ts';
import type { RouterContext } from './context.ts';
import { fragmentsOf, rootFieldNames } from './operation-limits-plugin.ts';

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
 * Per-client, per-root-field rate limiting with graphql-rate-limit's limiter. Its schema directive
 * cannot work here: the router executes a query plan, not resolvers, so the limiter is called from
 * `didResolveOperation` once per root field use (an aliased field twice counts twice), before any
 * subgraph is called. The client is the verified user id, else the socket's IP address.
 *
 * Rejected calls are not recorded (`uncountRejected`), so a client that keeps knocking is let in
 * again as soon as its oldest counted call leaves the window, which is what `retryAfter` promises.
 */
export function createRateLimitPlugin({ config, logger }: { config: RateLimitConfig; logger: Logger }): ApolloServerPlugin<RouterContext> & { close(): Promise<void> } {
  const redis = config.redisUrl ? new Redis(config.redisUrl, { keyPrefix: config.redisKeyPrefix, maxRetriesPerRequest: 1, enableOfflineQueue: true }) : undefined;
  redis?.on('error', (error) => logger.warn({ err: error }, 'rate-limit store unavailable'));
  const store: Store = redis ? new RedisStore(redis) : new InMemoryStore();
  const limiter = getGraphQLRateLimiter({ identifyContext: (context: RouterContext) => context.clientId, store });

  async function retryAfterSeconds(clientId: string, field: string, limit: RateLimit): Promise<number> {
    const timestamps = [...(await store.getForIdentity({ contextIdentity: clientId, fieldIdentity: field }))].sort((a, b) => a - b);
    // The call that frees a slot is the one `max` places before the newest: when it expires, one fits.
    const freeing = timestamps[timestamps.length - limit.max] ?? timestamps[0] ?? Date.now();
    return Math.max(1, Math.ceil((freeing + limit.windowMs - Date.now()) / 1000));
  }

  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, contextValue }) {
          if (!operation) return;
          const fragments = fragmentsOf(document);
          const rootType = operation.operation === 'query' ? 'Query' : operation.operation === 'mutation' ? 'Mutation' : 'Subscription';
          for (const name of rootFieldNames(operation.selectionSet, fragments)) {
            const field = `${rootType}.${name}`;
            const limit = config.fields[field] ?? config.default;
            let rejected: string | undefined;
            try {
              // The limiter reads only `fieldName` from info (and `args` for identityArgs, unused here).
              const info = { fieldName: field } as GraphQLResolveInfo;
              rejected = await limiter({ parent: undefined, args: {}, context: contextValue, info }, { max: limit.max, window: `${limit.windowMs}ms`, uncountRejected: true });
            } catch (error) {
              // Fail open: a Redis outage must not take the whole API down. It is logged and alerted on.
              logger.error({ err: error, field }, 'rate-limit check failed; request allowed');
              continue;
            }
            if (rejected === undefined) continue;
            const retryAfter = await retryAfterSeconds(contextValue.clientId, field, limit).catch(() => Math.ceil(limit.windowMs / 1000));
            logger.info({ clientId: contextValue.clientId, field, max: limit.max, windowMs: limit.windowMs }, 'rate limited');
            const error = codedError('RATE_LIMITED', `too many ${field} calls; retry in ${retryAfter}s`, { field, retryAfter });
            error.extensions.http = { status: 429, headers: new HeaderMap([['retry-after', String(retryAfter)]]) };
            throw error;
          }
        },
      };
    },
    async close() {
      await redis?.quit().catch(() => redis.disconnect());
    },
  };
}
