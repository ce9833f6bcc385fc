import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../../platform/errors.ts";

describe("the error code list", () => {
  it("is documented in docs/errors.md exactly as platform/errors.ts defines it", () => {
    const rows = [
      ...readFileSync("docs/errors.md", "utf8").matchAll(
        /^\| `([A-Z_]+)` \| (.+?) \|/gm,
      ),
    ].map(([, code, meaning]) => [code, meaning]);
    expect(rows).toEqual(Object.entries(ERROR_CODES));
  });
});
