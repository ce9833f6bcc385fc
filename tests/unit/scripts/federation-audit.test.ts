/**
 * scripts/federation-audit.ts's options: `--executor` picks the router's ROUTER_EXECUTOR for the
 * run (written into the plug-in's run.sh), `--production` its NODE_ENV.
 */
import { describe, expect, it } from "vitest";
import {
  executorArgument,
  routerScript,
} from "../../../scripts/federation-audit.ts";

describe("the federation audit's router options", () => {
  it("reads --executor in both spellings and refuses an unknown executor", () => {
    expect(executorArgument(["--record"])).toBeUndefined();
    expect(executorArgument(["--executor", "switchyard"])).toBe("switchyard");
    expect(executorArgument(["--production", "--executor=gateway"])).toBe(
      "gateway",
    );
    expect(() => executorArgument(["--executor", "rust"])).toThrow(
      /--executor takes one of switchyard, gateway, not rust/,
    );
    expect(() => executorArgument(["--executor"])).toThrow(/not nothing/);
  });

  it("writes ROUTER_EXECUTOR into run.sh only when an executor is chosen", () => {
    const ports = { auditPort: 1, gatewayPort: 2 };
    expect(routerScript(ports)).not.toContain("ROUTER_EXECUTOR");
    const script = routerScript({
      ...ports,
      executor: "switchyard",
      production: true,
    });
    expect(script).toContain("export ROUTER_EXECUTOR=switchyard\n");
    expect(script).toContain("export NODE_ENV=production\n");
    // Set before the router starts.
    expect(script.indexOf("ROUTER_EXECUTOR")).toBeLessThan(
      script.indexOf("router/main.ts"),
    );
  });
});
