import { describe, expect, it } from "vitest";
import {
  DecimalScalar,
  formatMinorUnits,
  parseDecimalToMinorUnits,
} from "../../../platform/scalars.ts";

describe("money as Decimal strings over integer minor units", () => {
  it.each([
    [0, "0.00"],
    [5, "0.05"],
    [1999, "19.99"],
    [-250, "-2.50"],
    [123456789, "1234567.89"],
  ])("formats %i minor units as %s and parses it back", (minor, text) => {
    expect(formatMinorUnits(minor)).toBe(text);
    expect(parseDecimalToMinorUnits(text)).toBe(minor);
  });

  it("parses one-place and whole amounts exactly, without floating-point drift", () => {
    expect(parseDecimalToMinorUnits("0.1")).toBe(10);
    expect(parseDecimalToMinorUnits("19")).toBe(1900);
    expect(parseDecimalToMinorUnits("1.15")).toBe(115);
  });

  it.each(["1.234", "abc", "1e3", "", "--1", "1."])(
    "rejects %j with BAD_USER_INPUT",
    (text) => {
      expect(() => DecimalScalar.parseValue(text)).toThrow(
        expect.objectContaining({ extensions: { code: "BAD_USER_INPUT" } }),
      );
    },
  );

  it("refuses to serialise a number, so a resolver cannot leak minor units as a price", () => {
    expect(() => DecimalScalar.serialize(1999)).toThrow();
    expect(() => formatMinorUnits(19.99)).toThrow();
  });
});
