import { GraphQLError, GraphQLScalarType, Kind } from "graphql";

/**
 * Money crosses the API as a decimal string ("19.99") and is stored as integer minor units.
 * Every currency we sell in has two decimal places; a currency with another exponent needs a
 * per-currency table here before it can be added.
 */
export const MINOR_UNITS_PER_MAJOR = 100;

/**
 * The smallest and largest amount one payment may be, in minor units (0.01 to 100,000,000.00).
 * Payments refuses a charge outside these bounds, so products refuses a price outside them and
 * orders refuses a total above them: a price the catalogue accepts must always be chargeable,
 * or an order for it could only fail after stock was reserved.
 */
export const MIN_PAYMENT_MINOR = 1;
export const MAX_PAYMENT_MINOR = 100_000_000_00;

/** Whether payments can charge this amount (see MIN_PAYMENT_MINOR / MAX_PAYMENT_MINOR). */
export const isPayableAmount = (minor: number): boolean =>
  Number.isSafeInteger(minor) &&
  minor >= MIN_PAYMENT_MINOR &&
  minor <= MAX_PAYMENT_MINOR;

export function formatMinorUnits(minor: number): string {
  if (!Number.isSafeInteger(minor))
    throw new Error(`amount is not an integer of minor units: ${minor}`);
  const sign = minor < 0 ? "-" : "";
  const abs = Math.abs(minor);
  return `${sign}${Math.trunc(abs / MINOR_UNITS_PER_MAJOR)}.${String(abs % MINOR_UNITS_PER_MAJOR).padStart(2, "0")}`;
}

const DECIMAL_PATTERN = /^-?\d{1,13}(\.\d{1,2})?$/;

export function parseDecimalToMinorUnits(value: string): number {
  if (!DECIMAL_PATTERN.test(value))
    throw new GraphQLError(
      `not a decimal amount with at most two places: ${JSON.stringify(value)}`,
      { extensions: { code: "BAD_USER_INPUT" } },
    );
  const negative = value.startsWith("-");
  const [whole = "0", fraction = ""] = value.replace("-", "").split(".");
  const minor =
    Number(whole) * MINOR_UNITS_PER_MAJOR + Number(fraction.padEnd(2, "0"));
  return negative ? -minor : minor;
}

export const DecimalScalar = new GraphQLScalarType({
  name: "Decimal",
  description: 'An exact decimal amount serialised as a string, e.g. "19.99".',
  serialize(value) {
    if (typeof value === "string" && DECIMAL_PATTERN.test(value)) return value;
    throw new GraphQLError(`Decimal cannot represent ${JSON.stringify(value)}`);
  },
  parseValue(value) {
    if (typeof value !== "string")
      throw new GraphQLError('Decimal must be a string such as "19.99"', {
        extensions: { code: "BAD_USER_INPUT" },
      });
    return formatMinorUnits(parseDecimalToMinorUnits(value));
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING)
      throw new GraphQLError('Decimal must be a string such as "19.99"', {
        extensions: { code: "BAD_USER_INPUT" },
      });
    return formatMinorUnits(parseDecimalToMinorUnits(ast.value));
  },
});

export const DateTimeScalar = new GraphQLScalarType({
  name: "DateTime",
  description:
    'An instant in ISO 8601 / RFC 3339 form, always UTC, e.g. "2026-11-24T13:55:50.000Z".',
  serialize(value) {
    const date =
      value instanceof Date
        ? value
        : typeof value === "string"
          ? new Date(value)
          : undefined;
    if (!date || Number.isNaN(date.getTime()))
      throw new GraphQLError(
        `DateTime cannot represent ${JSON.stringify(value)}`,
      );
    return date.toISOString();
  },
  parseValue(value) {
    const date = typeof value === "string" ? new Date(value) : undefined;
    if (!date || Number.isNaN(date.getTime()))
      throw new GraphQLError("DateTime must be an ISO 8601 string", {
        extensions: { code: "BAD_USER_INPUT" },
      });
    return date;
  },
  parseLiteral(ast) {
    const date = ast.kind === Kind.STRING ? new Date(ast.value) : undefined;
    if (!date || Number.isNaN(date.getTime()))
      throw new GraphQLError("DateTime must be an ISO 8601 string", {
        extensions: { code: "BAD_USER_INPUT" },
      });
    return date;
  },
});
