import type { ApolloServerPlugin } from "@apollo/server";
import type { Principal } from "../../platform/principal.ts";

/**
 * The plan-debug view: one request's answer to "why did this request do that", returned in the
 * response's `extensions.planDebug` when an admin asks for it with `x-switchyard-debug: plan`.
 *
 * Any router module that knows something about the request records it here:
 *
 * ```ts
 * debugRecorder(context)?.record("cost", { estimated, actual });
 * debugRecorder(context)?.append("headers", { subgraph, header, decision: "propagated" });
 * ```
 *
 * `debugRecorder` is undefined unless debug is on for that request, so the call costs one WeakMap
 * lookup otherwise and nothing is built. A recorder is keyed by the request's context object (the
 * one Apollo Server hands to plugins, the gateway and the data sources), so it lives exactly as long
 * as the request and can never leak into another caller's response.
 *
 * What goes in is never seen by anyone but an admin who asked: the plugin only creates a recorder for
 * a verified ADMIN principal, and the `errors` a client sees keep their masking; unmasked originals
 * belong in the `maskedErrors` section, never back in `errors`.
 */

/** The header that asks for the view; its value lists what to show (`plan` today). */
export const DEBUG_HEADER = "x-switchyard-debug";

/**
 * Sections other modules fill. Open-ended (a string) so a new module can add one without touching
 * this file; the named ones are those the docs describe.
 */
export type DebugSection =
  | "plan"
  | "fetches"
  | "overrideLabels"
  | "headers"
  | "maskedErrors"
  | "errors"
  | "limits"
  | "cost"
  | (string & Record<never, never>);

export interface DebugRecorder {
  /** Sets a section (a later call replaces it): the plan, the cost figures, the active labels. */
  record(section: DebugSection, value: unknown): void;
  /** Adds one entry to a list section: a fetch, a header decision, a masked error. */
  append(section: DebugSection, value: unknown): void;
  /** What has been recorded so far, as JSON-ready data. */
  snapshot(): Record<string, unknown>;
}

const recorders = new WeakMap<object, DebugRecorder>();

/** The request's recorder, or undefined when debug is off for it (the common case). */
export function debugRecorder(
  context: object | null | undefined,
): DebugRecorder | undefined {
  return context ? recorders.get(context) : undefined;
}

/** Whether debug is on for the request whose context this is (dedup uses it to keep such requests apart). */
export function isDebugging(context: object | null | undefined): boolean {
  return debugRecorder(context) !== undefined;
}

function createRecorder(): DebugRecorder {
  const started = performance.now();
  const sections = new Map<string, unknown>();
  return {
    record(section, value) {
      sections.set(section, value);
    },
    append(section, value) {
      const existing = sections.get(section);
      if (Array.isArray(existing)) existing.push(value);
      else sections.set(section, [value]);
    },
    snapshot() {
      return {
        ...Object.fromEntries(sections),
        totalMs: Math.round((performance.now() - started) * 1000) / 1000,
      };
    },
  };
}

/** Whether the request's header value asks for the plan view (`plan`, or a list naming it). */
export function asksForPlanDebug(value: string | undefined | null): boolean {
  if (!value) return false;
  return value.split(",").some((part) => part.trim().toLowerCase() === "plan");
}

/**
 * Who may see the view. `admin`: a verified ADMIN principal, in every mode (the plan and the unmasked
 * originals describe the system's insides, so development is no excuse either); `off`: nobody.
 */
export type PlanDebugMode = "off" | "admin";

export function mayDebug(
  mode: PlanDebugMode,
  principal: Principal | null | undefined,
): boolean {
  switch (mode) {
    case "off":
      return false;
    case "admin":
      return principal?.role === "ADMIN";
    default: {
      const unknown: never = mode;
      throw new Error(`unknown plan-debug mode ${String(unknown)}`);
    }
  }
}

/**
 * Turns the recorder on for requests that ask and may, and puts what it holds into the response's
 * `extensions.planDebug`. It starts the recorder in `requestDidStart`, before parsing, so everything
 * after (planning, fetches, error formatting) can record.
 */
export function createPlanDebugPlugin<
  Context extends { readonly principal: Principal | null },
>({
  mode,
  collect,
}: {
  mode: PlanDebugMode;
  /**
   * Sections other modules keep on the request themselves (header decisions, masked-error
   * originals, cost figures), read once the response is ready; an undefined or empty one is left out.
   */
  collect?: (contextValue: Context) => Record<string, unknown>;
}): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ request, contextValue }) {
      if (mode === "off") return;
      if (!asksForPlanDebug(request.http?.headers.get(DEBUG_HEADER))) return;
      if (!mayDebug(mode, contextValue.principal)) return;
      const recorder = createRecorder();
      recorders.set(contextValue, recorder);
      return {
        // The errors as raised, before formatError masks them for the client (production hides
        // unknown errors' messages): what the masked message stood for. Stacks stay in the log.
        async didEncounterErrors({ errors }) {
          for (const error of errors)
            recorder.append("errors", {
              message: error.message,
              code: error.extensions.code ?? null,
              path: error.path ?? null,
              original: error.originalError
                ? `${error.originalError.name}: ${error.originalError.message}`
                : null,
            });
        },
        async willSendResponse({ response }) {
          if (response.body.kind !== "single") return;
          for (const [section, value] of Object.entries(
            collect?.(contextValue) ?? {},
          ))
            if (
              value !== undefined &&
              !(Array.isArray(value) && value.length === 0)
            )
              recorder.record(section, value);
          const result = response.body.singleResult;
          result.extensions = {
            ...result.extensions,
            planDebug: recorder.snapshot(),
          };
        },
      };
    },
  };
}
