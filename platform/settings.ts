/**
 * One declaration per setting: its environment variable, its key in `switchyard.yaml`, how its
 * text is parsed, its default (per NODE_ENV where they differ), what it means and whether it is a
 * secret. The config modules read through these declarations, and docs/configuration.md, the
 * JSON Schema of the file (schema/switchyard.config.schema.json) and the all-in-one wiring are
 * generated from the same objects, so a default is written exactly once.
 *
 * The file is an optional layer under the environment: its values become the variables they
 * stand for, and a variable that is set (non-empty) wins. Everything downstream reads one
 * environment-shaped object, so a value behaves the same whichever way it was given.
 */
export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  readonly variable: string;
  readonly problem: string;
  constructor(variable: string, problem: string) {
    super(`invalid configuration: ${variable} ${problem}`);
    this.name = "ConfigError";
    this.variable = variable;
    this.problem = problem;
  }
}

/** A JSON Schema fragment (draft-07 keywords: what editors' YAML language servers understand). */
export type JsonSchema = { readonly [keyword: string]: unknown };

/** What a parser may depend on besides the text: production refuses published secrets. */
export interface ParseContext {
  readonly production: boolean;
}

export interface SettingType<T> {
  /** Parses the raw text; throws a plain Error whose message completes "<VARIABLE> …". */
  parse(raw: string, context: ParseContext): T;
  /** What the file accepts for this setting. */
  readonly schema: JsonSchema;
  /**
   * The file may give a whole YAML tree (mappings, lists of mappings): it becomes the variable as
   * JSON text, so the environment can carry the same value (`ROUTER_HEADERS='{"all": …}'`).
   */
  readonly structured?: boolean;
}

/** A value, or one per NODE_ENV where development and production differ. */
export type SettingDefault<T> =
  | T
  | undefined
  | { readonly development: T | undefined; readonly production: T | undefined };

export interface Setting<T = unknown> {
  readonly env: string;
  /** Dotted path in switchyard.yaml (`router.port`); undefined: environment only. */
  readonly key: string | undefined;
  readonly type: SettingType<T>;
  readonly default: SettingDefault<T>;
  /** How docs show the default when code derives it (from another setting, per process…). */
  readonly defaultText?: string;
  readonly description: string;
  /** The problem reported when the setting is unset and has no default (here: in production). */
  readonly required?: string;
  /** Never logged or echoed; the file may hold it, the environment or a secret store should. */
  readonly secret?: boolean;
}

/** Declares a setting; the identity function that gives `T` its inference. */
export function setting<T>(declaration: Setting<T>): Setting<T> {
  return Object.freeze(declaration);
}

function isPerEnvironment<T>(
  value: SettingDefault<T>,
): value is { development: T | undefined; production: T | undefined } {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    "development" in value &&
    "production" in value
  );
}

/** The default `declared` takes in development or production. */
export function defaultOf<T>(
  declared: Setting<T>,
  { production = false }: { production?: boolean } = {},
): T | undefined {
  const value = declared.default;
  return isPerEnvironment(value)
    ? production
      ? value.production
      : value.development
    : (value as T | undefined);
}

/** Like `defaultOf`, for settings that always have one (a missing one is a declaration bug). */
export function requiredDefault<T>(
  declared: Setting<T>,
  options: { production?: boolean } = {},
): T {
  const value = defaultOf(declared, options);
  if (value === undefined)
    throw new Error(`${declared.env} declares no default`);
  return value;
}

export function isProduction(env: Env): boolean {
  return env.NODE_ENV === "production";
}

/** The raw text of a setting, or undefined when unset or empty. */
export function rawOf(
  env: Env,
  declared: Setting<unknown>,
): string | undefined {
  const raw = env[declared.env];
  return raw === undefined || raw === "" ? undefined : raw;
}

/**
 * Parses the setting's variable, or returns its default for this NODE_ENV when unset.
 * `production` defaults to NODE_ENV=production; a caller that already decided passes it.
 */
export function readSetting<T>(
  env: Env,
  declared: Setting<T>,
  { production = isProduction(env) }: { production?: boolean } = {},
): T {
  const raw = rawOf(env, declared);
  if (raw === undefined) {
    const fallback = defaultOf(declared, { production });
    if (fallback === undefined && declared.required !== undefined)
      throw new ConfigError(declared.env, declared.required);
    return fallback as T;
  }
  try {
    return declared.type.parse(raw, { production });
  } catch (error) {
    throw new ConfigError(declared.env, (error as Error).message);
  }
}

// ---- types ----------------------------------------------------------------------------------

export function integer({
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
}: { min?: number; max?: number } = {}): SettingType<number> {
  return {
    schema: {
      anyOf: [
        { type: "integer", minimum: min, maximum: max },
        { type: "string", pattern: "^-?\\d+$" },
      ],
    },
    parse(raw) {
      if (!/^-?\d+$/.test(raw.trim()))
        throw new Error(`must be an integer, got ${JSON.stringify(raw)}`);
      const value = Number(raw);
      if (value < min || value > max)
        throw new Error(`must be between ${min} and ${max}, got ${value}`);
      return value;
    },
  };
}

export const port: SettingType<number> = integer({ min: 0, max: 65535 });

export const boolean: SettingType<boolean> = {
  schema: {
    anyOf: [
      { type: "boolean" },
      {
        type: "string",
        enum: ["1", "0", "true", "false", "yes", "no", "on", "off"],
      },
    ],
  },
  parse(raw) {
    const normalized = raw.trim().toLowerCase();
    if (["1", "true", "yes", "on"].includes(normalized)) return true;
    if (["0", "false", "no", "off"].includes(normalized)) return false;
    throw new Error(`must be true or false, got ${JSON.stringify(raw)}`);
  },
};

export const text: SettingType<string> = {
  schema: { type: "string" },
  parse: (raw) => raw,
};

export const url: SettingType<string> = {
  schema: { type: "string", format: "uri" },
  parse(raw) {
    try {
      new URL(raw);
    } catch {
      throw new Error(`must be a URL, got ${JSON.stringify(raw)}`);
    }
    return raw;
  },
};

export function oneOf<const V extends string>(
  values: readonly V[],
): SettingType<V> {
  return {
    schema: { type: "string", enum: [...values] },
    parse(raw) {
      if (!(values as readonly string[]).includes(raw))
        throw new Error(
          `must be one of ${values.join(", ")}, got ${JSON.stringify(raw)}`,
        );
      return raw as V;
    },
  };
}

/** A comma-separated list in the environment; a YAML list (or the same string) in the file. */
export function list<T>(
  item: SettingType<T>,
  { itemSchema = item.schema }: { itemSchema?: JsonSchema } = {},
): SettingType<readonly T[]> {
  return {
    schema: {
      anyOf: [{ type: "array", items: itemSchema }, { type: "string" }],
    },
    parse: (raw, context) =>
      raw
        .split(",")
        .map((part) => part.trim())
        .filter((part) => part !== "")
        .map((part) => item.parse(part, context)),
  };
}

/** A type whose parsing is the module's own (rate limits, secrets with production rules…). */
export function custom<T>(
  schema: JsonSchema,
  parse: (raw: string, context: ParseContext) => T,
): SettingType<T> {
  return { schema, parse };
}

/** A declaration without its type: the kind builders of `define` supply it. */
export type Declaration<T> = Omit<Setting<T>, "type">;

/**
 * Declares a setting of one kind: the kind's own bounds (an integer's range) first, then the
 * declaration. Its value has the kind's type; a setting unset by default says so in its type
 * argument (`define.url<string | undefined>({ … })`).
 */
export interface SettingBuilder<T, Bounds extends unknown[] = []> {
  (...args: [...Bounds, Declaration<T>]): Setting<T>;
  <V extends T | undefined>(...args: [...Bounds, Declaration<V>]): Setting<V>;
}

function builder<T, Bounds extends unknown[] = []>(
  typeOf: (...bounds: Bounds) => SettingType<T>,
): SettingBuilder<T, Bounds> {
  return ((...args: unknown[]) => {
    const declaration = args.pop() as Declaration<T>;
    return setting<T>({ ...declaration, type: typeOf(...(args as Bounds)) });
  }) as SettingBuilder<T, Bounds>;
}

/** The common kinds of setting, each with its bounds: `define.int([1, 100], { env, key, … })`. */
export const define = Object.freeze({
  /** An integer within `[min, max]`. */
  int: builder(([min, max]: readonly [min: number, max: number]) =>
    integer({ min, max }),
  ),
  /** A TCP port (0–65535). */
  port: builder(() => port),
  /** True or false (`1`/`0`, `yes`/`no`, `on`/`off` too). */
  boolean: builder(() => boolean),
  text: builder(() => text),
  /** Text that must parse as a URL. */
  url: builder(() => url),
  /** One of `values`; the setting's type is their union. */
  oneOf: <const V extends string>(
    values: readonly V[],
    declaration: Declaration<NoInfer<V>>,
  ): Setting<V> => setting<V>({ ...declaration, type: oneOf(values) }),
});

/**
 * A tree of settings (header rules, error policies): JSON in the environment, plain YAML in the
 * file. `parse` receives the decoded value and throws a plain Error naming what is wrong inside it.
 */
export function structured<T>(
  schema: JsonSchema,
  parse: (value: unknown, context: ParseContext) => T,
): SettingType<T> {
  return {
    schema: { anyOf: [schema, { type: "string" }] },
    structured: true,
    parse(raw, context) {
      let value: unknown;
      try {
        value = JSON.parse(raw) as unknown;
      } catch {
        throw new Error(
          `must be JSON (or a YAML tree in the file), got ${JSON.stringify(raw.slice(0, 40))}`,
        );
      }
      return parse(value, context);
    },
  };
}

// ---- groups of declarations ------------------------------------------------------------------

export type Settings = Readonly<Record<string, Setting<unknown>>>;

/** The values a group of declarations reads to, key by key. */
export type SettingValues<S extends Settings> = {
  readonly [K in keyof S]: S[K] extends Setting<infer T> ? T : never;
};

/** Reads every declaration of a flat group, in declaration order (the first bad one is reported). */
export function readSettings<S extends Settings>(
  env: Env,
  group: S,
): SettingValues<S> {
  return Object.fromEntries(
    Object.entries(group).map(([name, declared]) => [
      name,
      readSetting(env, declared),
    ]),
  ) as SettingValues<S>;
}

export function isSetting(value: unknown): value is Setting<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    "env" in value &&
    "type" in value &&
    "description" in value
  );
}

/**
 * Every declaration in a (nested) record of them, each once: a group may reuse another's object
 * (HOST in every service), while two objects for one variable would be a default written twice.
 */
export function flattenSettings(group: object): Setting<unknown>[] {
  const found = new Set<Setting<unknown>>();
  const visit = (value: unknown) => {
    if (isSetting(value)) found.add(value);
    else if (typeof value === "object" && value !== null)
      for (const inner of Object.values(value)) visit(inner);
  };
  visit(group);
  return [...found];
}

/**
 * Every problem the declarations alone can find in `env` (unparseable values), all at once;
 * rules across settings stay in the loaders and are found when these pass.
 */
export function invalidSettings(
  env: Env,
  declarations: readonly Setting<unknown>[],
): ConfigError[] {
  const errors: ConfigError[] = [];
  for (const declared of declarations) {
    try {
      readSetting(env, declared);
    } catch (error) {
      if (error instanceof ConfigError) errors.push(error);
      else throw error;
    }
  }
  return errors;
}

/** How messages name a setting: its variable and its file key (`ROUTER_PORT / router.port`). */
export function settingName(declared: Setting<unknown>): string {
  return declared.key ? `${declared.env} / ${declared.key}` : declared.env;
}

/** Text for a default in docs: `defaultText`, else the value(s) in backticks. */
export function describeDefault(declared: Setting<unknown>): string {
  if (declared.defaultText !== undefined) return declared.defaultText;
  const show = (value: unknown) =>
    value === undefined
      ? "unset"
      : value === ""
        ? "empty"
        : `\`${Array.isArray(value) ? value.join(",") : String(value)}\``;
  const value = declared.default;
  if (isPerEnvironment(value))
    return value.development === value.production
      ? show(value.development)
      : `${show(value.development)}; ${show(value.production)} with \`NODE_ENV=production\``;
  return show(value);
}
