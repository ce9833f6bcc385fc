import {
  InMemorySpanExporter,
  type ReadableSpan,
} from "@opentelemetry/sdk-trace-base";
import { createLogger, type Logger } from "../../platform/logger.ts";
import { startTracing, type Tracing } from "../../platform/tracing.ts";
import { waitFor } from "./wait.ts";

export type LogLine = Record<string, unknown>;

/** The process's root logger (with its correlation mixin) writing parsed lines into `lines`. */
export function collectingLogger(level: "info" | "debug" = "info"): {
  logger: Logger;
  lines: LogLine[];
} {
  const lines: LogLine[] = [];
  const logger = createLogger({
    level,
    destination: {
      write: (line: string) => void lines.push(JSON.parse(line) as LogLine),
    },
  });
  return { logger, lines };
}

/** Tracing on, every span recorded in memory (sampling 1). */
export function recordSpans(): {
  tracing: Tracing;
  exporter: InMemorySpanExporter;
} {
  const exporter = new InMemorySpanExporter();
  const tracing = startTracing(
    {
      tracesUrl: undefined,
      serviceName: "switchyard-test",
      sampler: "parentbased_always_on",
      sampleRatio: 1,
      resourceAttributes: {},
    },
    { exporter },
  );
  return { tracing, exporter };
}

/** The chain of ancestors of `span` (itself first) among the recorded spans. */
export function ancestry(
  span: ReadableSpan,
  spans: ReadableSpan[],
): ReadableSpan[] {
  const byId = new Map(spans.map((one) => [one.spanContext().spanId, one]));
  const chain = [span];
  for (
    let current = span.parentSpanContext?.spanId;
    current && byId.has(current);
    current = byId.get(current)!.parentSpanContext?.spanId
  )
    chain.push(byId.get(current)!);
  return chain;
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A strict reader of the Prometheus text format (0.0.4): every line is a HELP/TYPE comment, blank,
 * or `name{label="value",…} number`; anything else throws naming the line. Returns the samples.
 */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  const types = new Set([
    "counter",
    "gauge",
    "histogram",
    "summary",
    "untyped",
  ]);
  const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
  // Values are Go floats: NaN and Inf in any letter case (prom-client writes `Nan`).
  const sampleLine = new RegExp(
    `^(${NAME})(?:\\{(.*)\\})? ([+-]?(?:[0-9.]+(?:e[+-]?[0-9]+)?|nan|inf))(?: -?[0-9]+)?$`,
    "i",
  );
  const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;
  for (const [index, line] of text.split("\n").entries()) {
    if (line === "") continue;
    if (line.startsWith("# HELP ")) {
      if (!new RegExp(`^# HELP ${NAME} `).test(line))
        throw new Error(`line ${index + 1}: bad HELP: ${line}`);
      continue;
    }
    if (line.startsWith("# TYPE ")) {
      const [, , , type] = line.split(" ");
      if (!type || !types.has(type))
        throw new Error(`line ${index + 1}: bad TYPE: ${line}`);
      continue;
    }
    const match = sampleLine.exec(line);
    if (!match) throw new Error(`line ${index + 1}: not a sample: ${line}`);
    const labels: Record<string, string> = {};
    const body = match[2] ?? "";
    labelPair.lastIndex = 0;
    while (labelPair.lastIndex < body.length) {
      const pair = labelPair.exec(body);
      if (!pair) throw new Error(`line ${index + 1}: bad labels: ${line}`);
      labels[pair[1]!] = pair[2]!;
    }
    const text = match[3]!.toLowerCase();
    samples.push({
      name: match[1]!,
      labels,
      value: text.endsWith("nan")
        ? Number.NaN
        : text.endsWith("inf")
          ? text.startsWith("-")
            ? -Infinity
            : Infinity
          : Number(text),
    });
  }
  return samples;
}

/** Each metric family's declared type (`# TYPE name type`), by family name; parse with parsePrometheusText first to validate. */
export function metricTypes(text: string): Map<string, string> {
  return new Map(
    [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((match) => [
      match[1]!,
      match[2]!,
    ]),
  );
}

/** Scrapes `url` (a service's /metrics) and returns its parsed samples. */
export async function scrape(url: string): Promise<Sample[]> {
  const response = await fetch(url);
  if (response.status !== 200)
    throw new Error(`${url} answered ${response.status}`);
  return parsePrometheusText(await response.text());
}

/** The value of one series, undefined when absent. */
export const valueOf = (
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
) =>
  samples.find(
    (sample) =>
      sample.name === name &&
      Object.entries(labels).every(
        ([key, value]) => sample.labels[key] === value,
      ),
  )?.value;

/** The services a placeOrder passes through, in the order its story is told. */
export const HOPS = [
  "router",
  "orders",
  "products",
  "payments",
  "relay",
  "worker",
  "dispatcher",
] as const;

/**
 * Signs a customer up, places one order through the router under `correlationId` and waits until
 * the dispatcher has logged its confirmation's delivery. Returns the order and the response's id header.
 */
export async function placeOrderStory(
  stack: import("../../stack.ts").Stack,
  lines: LogLine[],
  correlationId: string,
  { timeoutMs = 30_000 } = {},
): Promise<{ orderId: string; echoed: string | null; authorization: string }> {
  const { gql } = await import("./stack.ts");
  const { newProduct } = await import("./saga.ts");
  const { randomUUID } = await import("node:crypto");
  const email = `story-${randomUUID().slice(0, 8)}@example.test`;
  const signUp = await gql(
    stack.routerUrl,
    "mutation($input: SignUpInput!) { signUp(input: $input) { token } }",
    { input: { email, name: "Story", password: "correct horse battery" } },
  );
  const product = await newProduct(stack, 5, 1250);
  if (!signUp.data?.signUp)
    throw new Error(`sign up failed: ${JSON.stringify(signUp)}`);
  const authorization = `Bearer ${signUp.data.signUp.token}`;
  const response = await fetch(stack.routerUrl, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization,
      "x-request-id": correlationId,
    },
    body: JSON.stringify({
      query:
        "mutation PlaceOrder($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }",
      variables: {
        input: {
          items: [{ productId: product, quantity: 2 }],
          idempotencyKey: randomUUID(),
          paymentToken: "tok_visa",
        },
      },
    }),
  });
  const body = (await response.json()) as {
    data?: { placeOrder: { id: string; status: string } };
    errors?: unknown;
  };
  if (body.data?.placeOrder.status !== "CONFIRMED")
    throw new Error(`placeOrder did not confirm: ${JSON.stringify(body)}`);
  const deadline = Date.now() + timeoutMs;
  await waitFor(
    () =>
      lines.some(
        (line) =>
          line.service === "dispatcher" &&
          line.correlationId === correlationId &&
          line.msg === "notification delivered",
      )
        ? true
        : undefined,
    {
      timeoutMs,
      what: `the dispatcher to deliver ${correlationId}`,
    },
  );
  // The worker logs its hop once the job is confirmed, which may be after the dispatcher has
  // already delivered it: give every hop until the deadline (the caller asserts which are missing).
  await waitFor(
    () =>
      HOPS.every((hop) => servicesThatLogged(lines, correlationId).has(hop))
        ? true
        : undefined,
    { timeoutMs: Math.max(0, deadline - Date.now()), what: "every hop" },
  ).catch(() => undefined);
  return {
    orderId: body.data.placeOrder.id,
    echoed: response.headers.get("x-request-id"),
    authorization,
  };
}

/** Services that logged at least one line with `correlationId`. */
export const servicesThatLogged = (lines: LogLine[], correlationId: string) =>
  new Set(
    lines
      .filter((line) => line.correlationId === correlationId)
      .map((line) => String(line.service)),
  );

/**
 * The recorded spans of the trace that starts at the router's span for `correlationId`: the
 * router's server span, the dispatcher's delivery span of that trace, and the trace's spans.
 */
export function storySpans(spans: ReadableSpan[], correlationId: string) {
  const router = spans.find(
    (span) =>
      span.attributes.service === "router" &&
      span.attributes["correlation.id"] === correlationId &&
      span.kind === 1,
  );
  if (!router)
    throw new Error(
      `no router span for ${correlationId} among ${spans.length} spans`,
    );
  const traceId = router.spanContext().traceId;
  const trace = spans.filter((span) => span.spanContext().traceId === traceId);
  const dispatcher = trace.find(
    (span) => span.attributes.service === "dispatcher",
  );
  return { router, traceId, trace, dispatcher };
}
