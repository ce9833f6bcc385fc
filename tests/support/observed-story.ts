import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, expect } from "vitest";
import type { Logger } from "../../platform/logger.ts";
import type { Stack } from "../../stack.ts";
import {
  HOPS,
  ancestry,
  collectingLogger,
  placeOrderStory,
  recordSpans,
  servicesThatLogged,
  storySpans,
} from "./observability.ts";
import { bootStack } from "./stack.ts";
import type { Backend } from "./storage.ts";

type BootOptions = NonNullable<Parameters<typeof bootStack>[1]>;

/**
 * A stack for the enclosing `describe` that logs into `lines` and records its spans: booted on
 * `backend` before the tests, stopped (database dropped, tracing shut down, then `cleanup`) after.
 * `options` gets the collecting logger, which every part of the stack must log through.
 */
export function observedStack(
  backend: Pick<Backend, "open">,
  options: (logger: Logger) => BootOptions | Promise<BootOptions>,
  { bootTimeoutMs = 60_000, cleanup = async () => {} } = {},
) {
  const { logger, lines } = collectingLogger();
  const { tracing, exporter } = recordSpans();
  const state = { lines, exporter } as {
    lines: typeof lines;
    exporter: typeof exporter;
    stack: Stack;
    drop: () => Promise<void>;
  };
  beforeAll(async () => {
    const opened = await backend.open();
    state.drop = opened.drop;
    state.stack = await bootStack(opened.storage, {
      logger,
      ...(await options(logger)),
    });
  }, bootTimeoutMs);
  afterAll(async () => {
    await state.stack?.stop();
    await state.drop?.();
    await tracing.shutdown();
    await cleanup();
  });
  return state;
}

/**
 * Places an order under `correlationId` and checks the story every deployment must tell: the id
 * echoed back, logged by every hop, and one trace from the router's span down to the dispatcher's
 * delivery with a span of every hop in it. Returns the trace for the checks a deployment adds.
 */
export async function expectOneStory(
  { stack, lines, exporter }: ReturnType<typeof observedStack>,
  correlationId: string,
  storyOptions?: Parameters<typeof placeOrderStory>[3],
): Promise<
  ReturnType<typeof storySpans> & {
    dispatcher: ReadableSpan;
    chain: ReadableSpan[];
  }
> {
  const { echoed } = await placeOrderStory(
    stack,
    lines,
    correlationId,
    storyOptions,
  );
  expect(echoed).toBe(correlationId);
  expect([...servicesThatLogged(lines, correlationId)]).toEqual(
    expect.arrayContaining([...HOPS]),
  );
  const spans = storySpans(exporter.getFinishedSpans(), correlationId);
  const { router, trace, dispatcher } = spans;
  expect(
    dispatcher,
    "a dispatcher span in the router span’s trace",
  ).toBeDefined();
  // Parent links, not just a shared id: the delivery descends from the router's span through every hop.
  const chain = ancestry(dispatcher!, trace);
  expect(chain.at(-1)).toBe(router);
  for (const hop of HOPS)
    expect(
      trace.some((span) => span.attributes.service === hop),
      `a ${hop} span in the trace`,
    ).toBe(true);
  return { ...spans, dispatcher: dispatcher!, chain };
}
