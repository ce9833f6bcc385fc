/**
 * The OpenTelemetry sampler and resource variables (platform/tracing.ts): parsed by the config
 * function, refused with the variable's name when malformed, and applied by the tracer provider.
 */
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, it } from "vitest";
import {
  contextFrom,
  inSpan,
  loadTracingConfig,
  SAMPLERS,
  startTracing,
  type Tracing,
  type TracingConfig,
} from "../../../platform/tracing.ts";

/** A caller's sampled trace, as a `traceparent` header carries it. */
const SAMPLED_PARENT = {
  traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
};

describe("loadTracingConfig: sampler and resource", () => {
  it("reads every sampler the specification names, in any case; defaults to parent-based ratio sampling", () => {
    expect(loadTracingConfig({}, "x")).toMatchObject({
      sampler: "parentbased_traceidratio",
      sampleRatio: 1,
    });
    for (const sampler of SAMPLERS)
      expect(
        loadTracingConfig({ OTEL_TRACES_SAMPLER: sampler.toUpperCase() }, "x")
          .sampler,
      ).toBe(sampler);
    expect(
      loadTracingConfig(
        {
          OTEL_TRACES_SAMPLER: "traceidratio",
          OTEL_TRACES_SAMPLER_ARG: "0.25",
        },
        "x",
      ),
    ).toMatchObject({ sampler: "traceidratio", sampleRatio: 0.25 });
    expect(() =>
      loadTracingConfig({ OTEL_TRACES_SAMPLER: "jaeger_remote" }, "x"),
    ).toThrow(
      /OTEL_TRACES_SAMPLER must be one of always_on, always_off, traceidratio/,
    );
  });

  it("reads OTEL_RESOURCE_ATTRIBUTES (percent-decoded), with OTEL_SERVICE_NAME winning over its service.name", () => {
    const env = {
      OTEL_RESOURCE_ATTRIBUTES:
        "deployment.environment=staging, service.version=1.4.0,team=a%2Cb%20c,service.name=from-attributes",
    };
    expect(loadTracingConfig(env, "orders")).toMatchObject({
      serviceName: "from-attributes",
      resourceAttributes: {
        "deployment.environment": "staging",
        "service.version": "1.4.0",
        team: "a,b c",
      },
    });
    expect(
      loadTracingConfig(env, "orders").resourceAttributes,
    ).not.toHaveProperty("service.name");
    expect(
      loadTracingConfig({ ...env, OTEL_SERVICE_NAME: "orders-1" }, "orders")
        .serviceName,
    ).toBe("orders-1");
    expect(
      loadTracingConfig({ OTEL_RESOURCE_ATTRIBUTES: "" }, "orders"),
    ).toMatchObject({ serviceName: "orders", resourceAttributes: {} });
    for (const bad of ["team", "=staging", "team=%zz"])
      expect(
        () => loadTracingConfig({ OTEL_RESOURCE_ATTRIBUTES: bad }, "x"),
        bad,
      ).toThrow("OTEL_RESOURCE_ATTRIBUTES");
  });
});

describe("startTracing applies them", () => {
  let tracing: Tracing | undefined;
  afterEach(async () => {
    await tracing?.shutdown();
    tracing = undefined;
  });

  /** Spans recorded for one new trace and one continuing a sampled caller's, under `env`. */
  async function recorded(env: Record<string, string>) {
    const exporter = new InMemorySpanExporter();
    const config: TracingConfig = loadTracingConfig(env, "orders");
    tracing = startTracing(config, { exporter });
    await inSpan("new-trace", {}, async () => undefined);
    await inSpan(
      "continued",
      { parent: contextFrom(SAMPLED_PARENT) },
      async () => undefined,
    );
    const spans = exporter.getFinishedSpans();
    await tracing.shutdown();
    tracing = undefined;
    return spans;
  }

  it("records what the configured sampler decides", async () => {
    expect((await recorded({})).map((span) => span.name)).toEqual([
      "new-trace",
      "continued",
    ]);
    expect(await recorded({ OTEL_TRACES_SAMPLER: "always_off" })).toEqual([]);
    // Parent-based at ratio 0: new traces dropped, a sampled caller's trace continued.
    expect(
      (
        await recorded({
          OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
          OTEL_TRACES_SAMPLER_ARG: "0",
        })
      ).map((span) => span.name),
    ).toEqual(["continued"]);
    // Ratio alone ignores the caller's decision.
    expect(
      await recorded({
        OTEL_TRACES_SAMPLER: "traceidratio",
        OTEL_TRACES_SAMPLER_ARG: "0",
      }),
    ).toEqual([]);
    expect(
      (await recorded({ OTEL_TRACES_SAMPLER: "parentbased_always_off" })).map(
        (span) => span.name,
      ),
    ).toEqual(["continued"]);
  });

  it("puts the resource attributes and the service name on every span", async () => {
    const [span] = await recorded({
      OTEL_RESOURCE_ATTRIBUTES:
        "deployment.environment=staging,service.name=ignored",
      OTEL_SERVICE_NAME: "orders-1",
    });
    expect(span!.resource.attributes).toMatchObject({
      "deployment.environment": "staging",
      "service.name": "orders-1",
    });
  });
});
