import { describe, expect, it } from "vitest";
import { ALL_SETTINGS } from "../../../deploy/configuration.ts";
import { COMMON_SETTINGS } from "../../../platform/config.ts";
import {
  ConfigError,
  describeDefault,
  flattenSettings,
  integer,
  invalidSettings,
  list,
  readSetting,
  setting,
  url,
} from "../../../platform/settings.ts";
import { ROUTER_SETTINGS } from "../../../router/config.ts";

describe("setting declarations", () => {
  it("give their default for the environment: per NODE_ENV where they differ", () => {
    expect(readSetting({}, COMMON_SETTINGS.seedDemoData)).toBe(true);
    expect(
      readSetting({ NODE_ENV: "production" }, COMMON_SETTINGS.seedDemoData),
    ).toBe(false);
    expect(readSetting({}, ROUTER_SETTINGS.adminPort)).toBeUndefined();
    expect(
      readSetting({ NODE_ENV: "production" }, ROUTER_SETTINGS.adminPort),
    ).toBe(4090);
    expect(
      readSetting({ SEED_DEMO_DATA: "" }, COMMON_SETTINGS.seedDemoData),
    ).toBe(true);
  });

  it("refuse a required one that is unset and has no default, naming the variable", () => {
    expect(() =>
      readSetting(
        { NODE_ENV: "production" },
        COMMON_SETTINGS.internalServiceSecret,
      ),
    ).toThrow(
      new ConfigError("INTERNAL_SERVICE_SECRET", "is required in production"),
    );
    expect(readSetting({}, COMMON_SETTINGS.internalServiceSecret)).toMatch(
      /not-for-production/,
    );
  });

  it("parse with the type’s rules and report the variable with the problem", () => {
    const timeout = setting<number>({
      env: "X_TIMEOUT_MS",
      key: "x.timeout_ms",
      type: integer({ min: 10, max: 100 }),
      default: 50,
      description: "a timeout",
    });
    expect(readSetting({ X_TIMEOUT_MS: "20" }, timeout)).toBe(20);
    expect(() => readSetting({ X_TIMEOUT_MS: "5" }, timeout)).toThrow(
      "invalid configuration: X_TIMEOUT_MS must be between 10 and 100, got 5",
    );
    const urls = setting<readonly string[] | undefined>({
      env: "X_URLS",
      key: "x.urls",
      type: list(url),
      default: undefined,
      description: "urls",
    });
    expect(readSetting({ X_URLS: "http://a, http://b" }, urls)).toEqual([
      "http://a",
      "http://b",
    ]);
    expect(
      invalidSettings({ X_TIMEOUT_MS: "soon", X_URLS: "not a url" }, [
        timeout,
        urls,
      ]).map((error) => error.variable),
    ).toEqual(["X_TIMEOUT_MS", "X_URLS"]);
  });

  it("describe their defaults for the docs from the same values", () => {
    expect(describeDefault(COMMON_SETTINGS.seedDemoData)).toBe(
      "`true`; `false` with `NODE_ENV=production`",
    );
    expect(describeDefault(ROUTER_SETTINGS.port)).toBe("`4000`");
    expect(describeDefault(COMMON_SETTINGS.nodeEnv)).toBe("unset");
  });

  it("are each declared once: no two share a variable or a file key", () => {
    const all = ALL_SETTINGS;
    expect(
      flattenSettings([ROUTER_SETTINGS, ROUTER_SETTINGS.port]),
    ).toHaveLength(flattenSettings(ROUTER_SETTINGS).length);
    expect(new Set(all.map((declared) => declared.env)).size).toBe(all.length);
    const keys = all.flatMap((declared) =>
      declared.key ? [declared.key] : [],
    );
    expect(new Set(keys).size).toBe(keys.length);
  });
});
