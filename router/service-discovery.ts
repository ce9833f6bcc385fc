import { lookup } from "node:dns/promises";
import type { Logger } from "../platform/logger.ts";
import type { DiscoverySettings } from "./config.ts";

/**
 * Where a subgraph's instances are. The pool asks for the current list and is told when it
 * changes, so instances that come and go are picked up without a restart.
 */
export interface ServiceDiscovery {
  /** The instance URLs known now (never empty once `start` resolved, unless DNS returned nothing). */
  instances(): readonly string[];
  /** Called with the new list whenever it changes. */
  onChange(listener: (urls: readonly string[]) => void): void;
  start(): Promise<void>;
  stop(): void;
}

/** A fixed list of instances (one per URL). */
export function createStaticDiscovery(
  urls: readonly string[],
): ServiceDiscovery {
  const list = Object.freeze([...new Set(urls)]);
  return {
    instances: () => list,
    onChange: () => undefined,
    start: async () => undefined,
    stop: () => undefined,
  };
}

export type Resolve = (hostname: string) => Promise<string[]>;

const resolveAll: Resolve = async (hostname) =>
  (await lookup(hostname, { all: true })).map((entry) =>
    entry.family === 6 ? `[${entry.address}]` : entry.address,
  );

/**
 * Every address the URL's host name resolves to, as one instance each (same scheme, port and
 * path), re-resolved every `refreshMs`. A failed lookup keeps the last known list: DNS hiccups
 * must not empty a pool that is serving.
 */
export function createDnsDiscovery({
  url,
  refreshMs,
  logger,
  resolve = resolveAll,
}: {
  url: string;
  refreshMs: number;
  logger: Logger;
  resolve?: Resolve;
}): ServiceDiscovery {
  const template = new URL(url);
  const hostname = template.hostname;
  let current: readonly string[] = [];
  const listeners: Array<(urls: readonly string[]) => void> = [];
  let timer: NodeJS.Timeout | undefined;
  async function refresh() {
    let addresses: string[];
    try {
      addresses = await resolve(hostname);
    } catch (error) {
      logger.warn(
        { err: error, hostname },
        "service discovery lookup failed; keeping the known instances",
      );
      return;
    }
    const next = [...new Set(addresses)].sort().map((address) => {
      const instance = new URL(template);
      instance.hostname = address;
      return instance.toString();
    });
    if (
      next.length === current.length &&
      next.every((value, index) => value === current[index])
    )
      return;
    logger.info(
      { hostname, instances: next.length },
      "service discovery instances changed",
    );
    current = Object.freeze(next);
    for (const listener of listeners) listener(current);
  }
  return {
    instances: () => current,
    onChange: (listener) => void listeners.push(listener),
    async start() {
      await refresh();
      timer = setInterval(() => void refresh(), refreshMs);
      timer.unref();
    },
    stop: () => clearInterval(timer),
  };
}

export function createDiscovery(
  settings: DiscoverySettings,
  { logger }: { logger: Logger },
): ServiceDiscovery {
  switch (settings.kind) {
    case "static":
      return createStaticDiscovery(settings.urls);
    case "dns":
      return createDnsDiscovery({
        url: settings.url,
        refreshMs: settings.refreshMs,
        logger,
      });
    default: {
      const unknown: never = settings;
      throw new Error(`unknown discovery ${JSON.stringify(unknown)}`);
    }
  }
}
