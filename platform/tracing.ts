import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import {
  ConfigError,
  readOptional,
  readString,
  readUrl,
  type Env,
} from "./config.ts";
import {
  CORRELATION_HEADER,
  isValidCorrelationId,
  withCorrelation,
} from "./correlation.ts";

export { SpanKind };

/** The OTEL_TRACES_SAMPLER values of the OpenTelemetry specification (the SDK's built-in samplers). */
export const SAMPLERS = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
] as const;
export type SamplerName = (typeof SAMPLERS)[number];

export interface TracingConfig {
  /** OTLP/HTTP traces URL (`…/v1/traces`); undefined = tracing off. */
  readonly tracesUrl: string | undefined;
  /** `service.name` of every span this process exports. */
  readonly serviceName: string;
  /**
   * Which spans are recorded (OTEL_TRACES_SAMPLER). `parentbased_*` follow a caller's sampling
   * decision and apply their root sampler to new traces only.
   * @default "parentbased_traceidratio"
   */
  readonly sampler: SamplerName;
  /** Share of traces the `*traceidratio` samplers record (OTEL_TRACES_SAMPLER_ARG). @default 1 */
  readonly sampleRatio: number;
  /** Resource attributes on every span besides `service.name` (OTEL_RESOURCE_ATTRIBUTES). @default {} */
  readonly resourceAttributes: Readonly<Record<string, string>>;
}

/**
 * OTEL_RESOURCE_ATTRIBUTES: `key=value` pairs separated by commas, values percent-encoded (W3C
 * Baggage octets), as the specification defines it. A malformed entry is refused (the SDK would
 * drop the whole variable silently).
 */
function readResourceAttributes(env: Env): Record<string, string> {
  const raw = readOptional(env, "OTEL_RESOURCE_ATTRIBUTES");
  const attributes: Record<string, string> = {};
  if (raw === undefined || raw.trim() === "") return attributes;
  for (const entry of raw.split(",")) {
    const separator = entry.indexOf("=");
    const key = entry.slice(0, separator).trim();
    if (separator < 0 || key === "")
      throw new ConfigError(
        "OTEL_RESOURCE_ATTRIBUTES",
        `must be key=value pairs separated by commas, got ${JSON.stringify(entry.trim())}`,
      );
    try {
      attributes[key] = decodeURIComponent(entry.slice(separator + 1).trim());
    } catch {
      throw new ConfigError(
        "OTEL_RESOURCE_ATTRIBUTES",
        `has a value that is not percent-encoded: ${JSON.stringify(entry.trim())}`,
      );
    }
  }
  return attributes;
}

/**
 * Reads the standard OpenTelemetry variables: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is) or
 * OTEL_EXPORTER_OTLP_ENDPOINT (+ `/v1/traces`), OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER,
 * OTEL_TRACES_SAMPLER_ARG (ratio, default 1), OTEL_RESOURCE_ATTRIBUTES. OTEL_SDK_DISABLED=true turns
 * tracing off whatever else is set. The service name is OTEL_SERVICE_NAME, else `service.name` in
 * OTEL_RESOURCE_ATTRIBUTES, else the deployable's (the specification's precedence).
 *
 * Unset, the sampler is `parentbased_traceidratio`, not the specification's
 * `parentbased_always_on`: with the default ratio 1 the two are the same, and a deployment that sets
 * only OTEL_TRACES_SAMPLER_ARG (as ours did before the sampler was configurable) keeps its ratio.
 */
export function loadTracingConfig(
  env: Env,
  defaultServiceName: string,
): TracingConfig {
  const { "service.name": attributeServiceName, ...resourceAttributes } =
    readResourceAttributes(env);
  const serviceName = readString(
    env,
    "OTEL_SERVICE_NAME",
    attributeServiceName ?? defaultServiceName,
  );
  const sampler = readString(
    env,
    "OTEL_TRACES_SAMPLER",
    "parentbased_traceidratio",
  )
    .trim()
    .toLowerCase();
  if (!(SAMPLERS as readonly string[]).includes(sampler))
    throw new ConfigError(
      "OTEL_TRACES_SAMPLER",
      `must be one of ${SAMPLERS.join(", ")}`,
    );
  const rawRatio = readOptional(env, "OTEL_TRACES_SAMPLER_ARG");
  const sampleRatio = rawRatio === undefined ? 1 : Number(rawRatio);
  if (!Number.isFinite(sampleRatio) || sampleRatio < 0 || sampleRatio > 1)
    throw new ConfigError(
      "OTEL_TRACES_SAMPLER_ARG",
      "must be a number from 0 to 1",
    );
  const disabled = readOptional(env, "OTEL_SDK_DISABLED") === "true";
  const tracesEndpoint = readUrl(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  const baseEndpoint = readUrl(env, "OTEL_EXPORTER_OTLP_ENDPOINT");
  const tracesUrl = disabled
    ? undefined
    : (tracesEndpoint ??
      (baseEndpoint
        ? `${baseEndpoint.replace(/\/+$/, "")}/v1/traces`
        : undefined));
  return Object.freeze({
    tracesUrl,
    serviceName,
    sampler: sampler as SamplerName,
    sampleRatio,
    resourceAttributes: Object.freeze(resourceAttributes),
  });
}

/** The SDK sampler `config` names. */
export function samplerOf({
  sampler,
  sampleRatio,
}: Pick<TracingConfig, "sampler" | "sampleRatio">): Sampler {
  switch (sampler) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return new TraceIdRatioBasedSampler(sampleRatio);
    case "parentbased_always_on":
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({
        root: new TraceIdRatioBasedSampler(sampleRatio),
      });
    default: {
      const unknown: never = sampler;
      throw new Error(`unknown sampler ${String(unknown)}`);
    }
  }
}

export interface Tracing {
  readonly enabled: boolean;
  /** Exports what is buffered (tests, shutdown). */
  flush(): Promise<void>;
  /** Flushes, then unregisters the global provider, context manager and propagator. */
  shutdown(): Promise<void>;
}

const OFF: Tracing = {
  enabled: false,
  flush: async () => undefined,
  shutdown: async () => undefined,
};

/**
 * Registers this process's tracer provider, context manager (AsyncLocalStorage) and W3C
 * propagator globally; the gateway's own spans (`gateway.request`, `gateway.plan`, `gateway.fetch`…)
 * and ours then share traces. Without a URL and without `exporter`, nothing is registered: every
 * span call in the code hits @opentelemetry/api's no-op tracer, which allocates nothing per request.
 * `exporter` (tests: an InMemorySpanExporter) is exported to synchronously, span by span.
 */
export function startTracing(
  config: TracingConfig,
  { exporter }: { exporter?: SpanExporter } = {},
): Tracing {
  if (!config.tracesUrl && !exporter) return OFF;
  const spanProcessors = [];
  if (exporter) spanProcessors.push(new SimpleSpanProcessor(exporter));
  if (config.tracesUrl)
    spanProcessors.push(
      new BatchSpanProcessor(new OTLPTraceExporter({ url: config.tracesUrl })),
    );
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      ...config.resourceAttributes,
      "service.name": config.serviceName,
    }),
    sampler: samplerOf(config),
    spanProcessors,
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    enabled: true,
    flush: () => provider.forceFlush(),
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

/** Our spans' instrumentation scope; the span's `service` attribute names the service. */
const tracer = () => trace.getTracer("switchyard");

type Carrier = Record<string, string | string[] | undefined>;

const getter = {
  keys: (carrier: Carrier) => Object.keys(carrier),
  get: (carrier: Carrier, key: string) =>
    carrier[key] ?? carrier[key.toLowerCase()],
};

/** The context a W3C `traceparent` (HTTP, Kafka or AMQP headers) names, child of the active one otherwise. */
export function contextFrom(
  headers: Carrier,
  parent: Context = context.active(),
): Context {
  return propagation.extract(parent, headers, getter);
}

/** `traceparent` (and `tracestate`) for the active span, to put on an outgoing message or request. */
export function traceHeaders(
  active: Context = context.active(),
): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(active, headers);
  return headers;
}

/** The active span's `traceparent`, when a sampled or propagated span is active. */
export function currentTraceparent(): string | undefined {
  return traceHeaders().traceparent;
}

/** The active trace id, for log lines; undefined when no span is active (tracing off). */
export function currentTraceId(): string | undefined {
  const span = trace.getSpan(context.active());
  if (!span) return undefined;
  const { traceId } = span.spanContext();
  return trace.isSpanContextValid(span.spanContext()) ? traceId : undefined;
}

/**
 * Runs `fn` in a new active span (child of `parent`, the active context by default), records a
 * thrown error on it and ends it. Returns what `fn` returns.
 */
export async function inSpan<T>(
  name: string,
  {
    kind = SpanKind.INTERNAL,
    attributes,
    parent,
  }: { kind?: SpanKind; attributes?: Attributes; parent?: Context },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const span = tracer().startSpan(
    name,
    { kind, ...(attributes ? { attributes } : {}) },
    parent ?? context.active(),
  );
  try {
    return await context.with(
      trace.setSpan(parent ?? context.active(), span),
      () => fn(span),
    );
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Marks a span failed with the error's message (no stack: spans leave the process). */
export function failSpan(span: Span, error: unknown): void {
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: (error as Error)?.message ?? String(error),
  });
}

/**
 * Starts a span that the caller ends (a batch publish holds one per message until the batch is
 * sent). `parent` defaults to the active context.
 */
export function startSpan(
  name: string,
  {
    kind = SpanKind.INTERNAL,
    attributes,
    parent,
  }: { kind?: SpanKind; attributes?: Attributes; parent?: Context },
): Span {
  return tracer().startSpan(
    name,
    { kind, ...(attributes ? { attributes } : {}) },
    parent ?? context.active(),
  );
}

/** `traceparent` headers naming `span`, for the message it publishes. */
export function spanHeaders(span: Span): Record<string, string> {
  return traceHeaders(trace.setSpan(ROOT_CONTEXT, span));
}

/** The span's trace id for a log line, undefined for a no-op span. */
export function traceIdOf(span: Span): string | undefined {
  const spanContext = span.spanContext();
  return trace.isSpanContextValid(spanContext)
    ? spanContext.traceId
    : undefined;
}

/**
 * The context a consumed message's headers name: a new trace's root when they carry none. Never
 * the active context, which belongs to the consumer loop, not to the message.
 */
export function messageContext(headers: Carrier): Context {
  return contextFrom(headers, ROOT_CONTEXT);
}

/**
 * Handles one consumed message (Kafka event, RabbitMQ job) under its correlation id (the
 * `correlationId` header, when valid) and in a CONSUMER span continuing the trace its headers name.
 */
export function consumeMessage<T>(
  headers: Record<string, string>,
  name: string,
  attributes: Attributes,
  handle: () => Promise<T>,
): Promise<T> {
  const correlationId = headers[CORRELATION_HEADER];
  const consume = () =>
    inSpan(
      name,
      { kind: SpanKind.CONSUMER, parent: messageContext(headers), attributes },
      handle,
    );
  return isValidCorrelationId(correlationId)
    ? withCorrelation(correlationId, consume)
    : consume();
}
