import type { Dispatcher } from "undici";

/** One POST to a subgraph instance, as the pool sends it. */
export interface SubgraphPost {
  readonly origin: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** The whole exchange (queueing, connect, headers, body) must end within this. */
  readonly timeoutMs: number;
}

/** A complete response: the status, the few headers the router reads, and the body as text. */
export interface SubgraphHttpResponse {
  readonly status: number;
  /** Undefined when absent; repeated headers in arrival order (set-cookie is the usual one). */
  readonly headers: {
    readonly contentType: readonly string[] | undefined;
    readonly cacheControl: readonly string[] | undefined;
    readonly setCookie: readonly string[] | undefined;
    readonly retryAfter: readonly string[] | undefined;
  };
  readonly text: string;
}

/** The exchange did not end within `timeoutMs` (and was aborted). */
export class SubgraphHttpTimeout extends Error {
  constructor(timeoutMs: number) {
    super(`no complete answer within ${timeoutMs}ms`);
    this.name = "SubgraphHttpTimeout";
  }
}

type HeaderKey = keyof SubgraphHttpResponse["headers"];

/** The response headers read, by lower-case name. */
const READ_HEADERS: ReadonlyMap<string, HeaderKey> = new Map([
  ["content-type", "contentType"],
  ["cache-control", "cacheControl"],
  ["set-cookie", "setCookie"],
  ["retry-after", "retryAfter"],
]);
const READ_LENGTHS = new Set([...READ_HEADERS.keys()].map((key) => key.length));

/**
 * Sends `post` through `dispatcher` and collects the answer, with undici's dispatch handler instead
 * of `request()`: the answer is read whole anyway, and `request()` wraps every fetch in an
 * AbortController with its event listeners, an async resource, a Readable stream for the body and
 * a parse of every response header — about a twentieth of the router's CPU on a federated query
 * that makes sixteen fetches. What comes back is what `request()` and `body.text()` give: the
 * final (non-1xx) status, header values decoded as latin1, the body decoded as UTF-8 without a
 * leading byte-order mark. Rejects with `SubgraphHttpTimeout` when the timer aborts the exchange,
 * otherwise with undici's own error (connection refused or reset, malformed response).
 */
export function postToSubgraph(
  dispatcher: Dispatcher,
  post: SubgraphPost,
): Promise<SubgraphHttpResponse> {
  return new Promise((resolve, reject) => {
    let abort: ((reason: Error) => void) | undefined;
    let timedOut: SubgraphHttpTimeout | undefined;
    let status = 0;
    let rawHeaders: Buffer[] = [];
    const chunks: Buffer[] = [];
    let length = 0;
    const timer = setTimeout(() => {
      timedOut = new SubgraphHttpTimeout(post.timeoutMs);
      // Before the request reached a connection, undici aborts it when it does (onConnect).
      abort?.(timedOut);
    }, post.timeoutMs);
    const handler: Dispatcher.DispatchHandler = {
      onConnect(abortRequest) {
        if (timedOut) abortRequest(timedOut);
        else abort = abortRequest;
      },
      onHeaders(statusCode, headers) {
        // Informational answers (100 Continue, 103 Early Hints) precede the real one.
        if (statusCode < 200) return true;
        status = statusCode;
        rawHeaders = headers as unknown as Buffer[];
        return true;
      },
      onData(chunk) {
        chunks.push(chunk);
        length += chunk.length;
        return true;
      },
      onComplete() {
        clearTimeout(timer);
        resolve({
          status,
          headers: readHeaders(rawHeaders),
          text: decodeBody(chunks, length),
        });
      },
      onError(error) {
        clearTimeout(timer);
        reject(timedOut ?? error);
      },
    };
    dispatcher.dispatch(
      {
        origin: post.origin,
        path: post.path,
        method: "POST",
        headers: post.headers,
        body: post.body,
      },
      handler,
    );
  });
}

function readHeaders(raw: readonly Buffer[]): SubgraphHttpResponse["headers"] {
  const found: Record<HeaderKey, string[] | undefined> = {
    contentType: undefined,
    cacheControl: undefined,
    setCookie: undefined,
    retryAfter: undefined,
  };
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = raw[index]!;
    // Only names of a length the router reads are decoded: most headers are skipped unread.
    if (!READ_LENGTHS.has(name.length)) continue;
    const key = READ_HEADERS.get(name.toString("latin1").toLowerCase());
    if (!key) continue;
    (found[key] ??= []).push(raw[index + 1]!.toString("latin1"));
  }
  return found;
}

/** UTF-8 text of the body, a leading byte-order mark dropped (as undici's `body.text()`). */
function decodeBody(chunks: readonly Buffer[], length: number): string {
  if (length === 0) return "";
  const buffer =
    chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
  const start =
    buffer.length > 2 &&
    buffer[0] === 0xef &&
    buffer[1] === 0xbb &&
    buffer[2] === 0xbf
      ? 3
      : 0;
  return buffer.toString("utf8", start);
}
