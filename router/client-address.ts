import type { IncomingMessage } from "node:http";
import { BlockList, isIP } from "node:net";

/** Which header a trusted proxy appends the address of its own peer to. */
export type ForwardedHeader = "x-forwarded-for" | "forwarded";

export interface ClientAddressSettings {
  /**
   * Proxies (CIDRs or single addresses, IPv4 and IPv6) whose forwarding header is believed. Empty:
   * the socket's peer is the client, whatever headers say (the router is the edge). @default []
   */
  readonly trustedProxies: readonly string[];
  /**
   * The header the trusted proxies write. Only one is read: were both read, a client could put a made-up
   * address in the one its proxy does not touch. @default "x-forwarded-for"
   */
  readonly header: ForwardedHeader;
}

/** Thrown for an entry of TRUSTED_PROXIES that is not an address or a CIDR. */
export class InvalidProxyError extends Error {}

/** `::ffff:10.0.0.1` (how a dual-stack socket reports an IPv4 peer) is 10.0.0.1. */
function normalize(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

/** Parses `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a /32 or /128) into a list to check peers against. */
export function parseTrustedProxies(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [rawAddress, rawPrefix, extra] = entry.trim().split("/");
    const address = normalize(rawAddress ?? "");
    const family = isIP(address);
    const bits = family === 4 ? 32 : 128;
    const prefix =
      rawPrefix === undefined
        ? bits
        : /^\d{1,3}$/.test(rawPrefix)
          ? Number(rawPrefix)
          : Number.NaN;
    if (family === 0 || extra !== undefined || !(prefix >= 0 && prefix <= bits))
      throw new InvalidProxyError(
        `${JSON.stringify(entry)} is not an IP address or CIDR`,
      );
    list.addSubnet(address, prefix, family === 4 ? "ipv4" : "ipv6");
  }
  return list;
}

/**
 * One hop as a header writes it, reduced to the address: quotes, `[…]` around IPv6 and a port are
 * dropped (`"[2001:db8::17]:4711"`, `192.0.2.60:80`). Anything else (`unknown`, an obfuscated
 * `_node`, garbage) comes back as is and fails isIP().
 */
function hopAddress(raw: string): string {
  let value = raw.trim();
  if (value.startsWith('"') && value.endsWith('"') && value.length >= 2)
    value = value.slice(1, -1);
  if (value.startsWith("[")) {
    const end = value.indexOf("]");
    return end > 0 ? value.slice(1, end) : value;
  }
  // One colon: IPv4 with a port. IPv6 has several and is left alone.
  const colons = value.split(":").length - 1;
  if (colons === 1) value = value.slice(0, value.indexOf(":"));
  return normalize(value);
}

/** The hops a header lists, oldest (client side) first. */
export function forwardedHops(
  header: ForwardedHeader,
  value: string | undefined,
): string[] {
  if (!value) return [];
  if (header === "x-forwarded-for") return value.split(",").map(hopAddress);
  // RFC 7239: elements separated by commas, pairs by semicolons; `for` names the hop's client side.
  return value.split(",").map((element) => {
    const pair = element
      .split(";")
      .map((part) => part.trim())
      .find((part) => part.toLowerCase().startsWith("for="));
    return pair ? hopAddress(pair.slice(4)) : "";
  });
}

/**
 * The client's address: the socket's peer, unless that peer is a trusted proxy. Then the forwarding
 * header is read from the right (the entry the nearest proxy appended) leftwards, over every trusted
 * hop, and the first untrusted one is the client: everything left of it was written by the client
 * or by proxies nobody vouches for. A hop that is not an address ends the walk at the trusted proxy
 * that wrote it. A peer outside the list is never overridden, whatever headers it sends.
 */
export function createClientAddressResolver({
  trustedProxies,
  header,
}: ClientAddressSettings): (req: IncomingMessage) => string {
  const trusted = parseTrustedProxies(trustedProxies);
  const isTrusted = (address: string) => {
    const family = isIP(address);
    return (
      family !== 0 && trusted.check(address, family === 4 ? "ipv4" : "ipv6")
    );
  };
  return (req) => {
    const peer = normalize(req.socket.remoteAddress ?? "unknown");
    if (trustedProxies.length === 0 || !isTrusted(peer)) return peer;
    const raw = req.headers[header];
    const hops = forwardedHops(
      header,
      Array.isArray(raw) ? raw.join(",") : raw,
    );
    let nearest = peer;
    for (let index = hops.length - 1; index >= 0; index -= 1) {
      const hop = hops[index]!;
      if (isIP(hop) === 0) return nearest;
      if (!isTrusted(hop)) return hop;
      nearest = hop;
    }
    return nearest;
  };
}
