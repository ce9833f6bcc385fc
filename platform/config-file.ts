/**
 * `switchyard.yaml`: the optional configuration file (at the working directory, or where
 * SWITCHYARD_CONFIG points), its JSON Schema, and the environment it turns into. Every key is the
 * `key` of one declared setting (platform/settings.ts); its value becomes that setting's variable
 * unless the variable is set, so the environment always wins over the file.
 *
 * Everything wrong is collected and reported together, each problem with its path (the file key
 * or the variable), so a deployment is fixed in one round instead of one restart per typo.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { isMap, isScalar, isSeq, parseDocument, type Node } from "yaml";
import {
  ConfigError,
  defaultOf,
  invalidSettings,
  type Env,
  type JsonSchema,
  type Setting,
} from "./settings.ts";

export const CONFIG_FILE_NAME = "switchyard.yaml";
export const CONFIG_FILE_VARIABLE = "SWITCHYARD_CONFIG";
export const SCHEMA_URL_PATH = "schema/switchyard.config.schema.json";

/**
 * Prefixes only Switchyard uses: a variable under one of them that no setting declares is a typo
 * (or a setting that was removed) and refuses the start. Per-service prefixes (`ORDERS_`, `KAFKA_`…)
 * are not claimed: other tools on the same machine use them.
 */
export const OWNED_PREFIXES = ["SWITCHYARD_", "ROUTER_"] as const;

/**
 * Under an owned prefix but not settings: the test harness passes its own state to the processes
 * it starts this way (tests/support/pglite-setup.ts sets SWITCHYARD_TEST_PGLITE_ROOT).
 */
export const HARNESS_PREFIX = "SWITCHYARD_TEST_";

/** Variables under an owned prefix that something else reads (not a config module). */
export const OTHER_READERS: Readonly<Record<string, string>> = Object.freeze({
  ROUTER_URL: "clients/example.ts (`npm run example`)",
});

export interface ResolvedEnvironment {
  /** The file's values under the process environment: what config modules read. */
  readonly env: Env;
  /** Variable → file key, for values that came from the file (error messages name the key). */
  readonly fromFile: ReadonlyMap<string, string>;
  /** The file read, if any. */
  readonly file: string | undefined;
  /** Unknown keys, unknown owned variables, values of the wrong shape. */
  readonly problems: readonly ConfigProblem[];
}

export interface ConfigProblem {
  /** The file key path or the variable the problem is about. */
  readonly path: string;
  readonly message: string;
}

/** A refused configuration: every problem found, each on its own line. */
export class ConfigurationRefused extends Error {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super(formatProblems(problems));
    this.name = "ConfigurationRefused";
    this.problems = problems;
  }
}

export function formatProblems(problems: readonly ConfigProblem[]): string {
  if (problems.length === 1)
    return `invalid configuration: ${problems[0]!.message}`;
  return [
    `invalid configuration (${problems.length} problems):`,
    ...problems.map((problem) => `  ${problem.message}`),
  ].join("\n");
}

/** A ConfigError as a problem, naming the file key too when the value came from the file. */
export function problemOf(
  error: ConfigError,
  fromFile: ReadonlyMap<string, string>,
  file: string | undefined,
): ConfigProblem {
  const key = fromFile.get(error.variable);
  const where = key
    ? `${file ?? CONFIG_FILE_NAME}: ${key} (${error.variable})`
    : error.variable;
  return { path: key ?? error.variable, message: `${where} ${error.problem}` };
}

/** Levenshtein distance, for "did you mean". */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    previous = current;
  }
  return previous[b.length]!;
}

/** The closest candidate, if it is close enough to be a plausible typo. */
export function closest(
  name: string,
  candidates: Iterable<string>,
): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best !== undefined &&
    bestDistance <= Math.max(2, Math.floor(name.length / 3))
    ? best
    : undefined;
}

function suggestion(name: string, candidates: Iterable<string>): string {
  const near = closest(name, candidates);
  return near ? `; did you mean ${near}?` : "";
}

/** Where the file is: SWITCHYARD_CONFIG (must exist), else ./switchyard.yaml when present. */
export function configFilePath(
  processEnv: Env,
  cwd: string,
): string | undefined {
  const named = processEnv[CONFIG_FILE_VARIABLE];
  if (named !== undefined && named !== "") return resolve(cwd, named);
  const implicit = resolve(cwd, CONFIG_FILE_NAME);
  return existsSync(implicit) ? implicit : undefined;
}

function scalarText(node: Node | null): string | undefined {
  if (isScalar(node)) {
    const value = node.value;
    if (value === null) return undefined;
    if (
      typeof value === "string" ||
      typeof value === "number" ||
      typeof value === "boolean"
    )
      return String(value);
  }
  if (isSeq(node)) {
    const items = node.items.map((item) => scalarText(item as Node));
    return items.every((item) => item !== undefined)
      ? items.join(",")
      : undefined;
  }
  return undefined;
}

/** The file's settings as variables, and every problem in it (parse errors, unknown keys, shapes). */
export function readConfigFile(
  text: string,
  declarations: readonly Setting<unknown>[],
): {
  values: Map<string, { variable: string; key: string; value: string }>;
  problems: ConfigProblem[];
} {
  const byKey = new Map(
    declarations
      .filter((declared) => declared.key !== undefined)
      .map((declared) => [declared.key!, declared]),
  );
  const sections = new Set(
    [...byKey.keys()].flatMap((key) =>
      key
        .split(".")
        .slice(0, -1)
        .map((_, index, parts) => parts.slice(0, index + 1).join(".")),
    ),
  );
  const values = new Map<
    string,
    { variable: string; key: string; value: string }
  >();
  const problems: ConfigProblem[] = [];
  const document = parseDocument(text, { uniqueKeys: true });
  for (const error of document.errors)
    problems.push({
      path: "file",
      message: `the file is not valid YAML: ${error.message.split("\n")[0]}`,
    });
  if (problems.length > 0) return { values, problems };
  const walk = (node: Node | null, prefix: string) => {
    if (node === null || (isScalar(node) && node.value === null)) return;
    if (!isMap(node)) {
      problems.push({
        path: prefix || "file",
        message: `${prefix || "the file"} must be a mapping of keys`,
      });
      return;
    }
    for (const pair of node.items) {
      const name = isScalar(pair.key)
        ? String(pair.key.value)
        : String(pair.key);
      const path = prefix ? `${prefix}.${name}` : name;
      const declared = byKey.get(path);
      if (declared?.type.structured) {
        const node = pair.value as Node | null;
        if (node !== null && !(isScalar(node) && node.value === null))
          values.set(declared.env, {
            variable: declared.env,
            key: path,
            // A string is already the variable's text (JSON); a tree becomes it.
            value:
              isScalar(node) && typeof node.value === "string"
                ? node.value
                : JSON.stringify(node.toJSON()),
          });
      } else if (declared) {
        const value = scalarText(pair.value as Node | null);
        if (
          value === undefined &&
          !(isScalar(pair.value) && pair.value.value === null)
        )
          problems.push({
            path,
            message: `${path} must be a single value or a list of values`,
          });
        else if (value !== undefined)
          values.set(declared.env, {
            variable: declared.env,
            key: path,
            value,
          });
      } else if (sections.has(path)) {
        walk(pair.value as Node | null, path);
      } else {
        // Keys under the same parent first (a misspelt name), then any key as deep (a misplaced one).
        const depth = path.split(".").length;
        const sameDepth = [...byKey.keys(), ...sections].filter(
          (candidate) => candidate.split(".").length === depth,
        );
        const siblings = sameDepth
          .filter((candidate) =>
            candidate.startsWith(prefix ? `${prefix}.` : ""),
          )
          .map((candidate) => candidate.slice(prefix ? prefix.length + 1 : 0));
        const near = closest(name, siblings);
        const elsewhere =
          near === undefined
            ? sameDepth.find(
                (candidate) =>
                  candidate.split(".").at(-1) ===
                  closest(
                    name,
                    sameDepth.map((other) => other.split(".").at(-1)!),
                  ),
              )
            : undefined;
        const suggested =
          near !== undefined
            ? prefix
              ? `${prefix}.${near}`
              : near
            : elsewhere;
        problems.push({
          path,
          message: `unknown key ${path}${suggested ? `; did you mean ${suggested}?` : ""}`,
        });
      }
    }
  };
  walk(document.contents as Node | null, "");
  return { values, problems };
}

/** Variables under an owned prefix that no setting declares. */
export function unknownVariables(
  processEnv: Env,
  declarations: readonly Setting<unknown>[],
): ConfigProblem[] {
  const known = new Set([
    ...declarations.map((declared) => declared.env),
    CONFIG_FILE_VARIABLE,
    ...Object.keys(OTHER_READERS),
  ]);
  return Object.keys(processEnv)
    .filter(
      (name) =>
        OWNED_PREFIXES.some((prefix) => name.startsWith(prefix)) &&
        !name.startsWith(HARNESS_PREFIX) &&
        !known.has(name),
    )
    .sort()
    .map((name) => ({
      path: name,
      message: `unknown variable ${name}${suggestion(name, known)}`,
    }));
}

/**
 * The environment config modules read: the file (if any) under `processEnv`, plus every problem
 * with the file and with variables under the prefixes Switchyard owns.
 */
export function resolveEnvironment(
  processEnv: Env,
  declarations: readonly Setting<unknown>[],
  { cwd = process.cwd() }: { cwd?: string } = {},
): ResolvedEnvironment {
  const problems: ConfigProblem[] = [
    ...unknownVariables(processEnv, declarations),
  ];
  const file = configFilePath(processEnv, cwd);
  const env: Record<string, string | undefined> = { ...processEnv };
  const fromFile = new Map<string, string>();
  if (file !== undefined) {
    let text: string | undefined;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      problems.push({
        path: CONFIG_FILE_VARIABLE,
        message: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      });
    }
    if (text !== undefined) {
      const read = readConfigFile(text, declarations);
      problems.push(
        ...read.problems.map((problem) => ({
          ...problem,
          message: `${file}: ${problem.message}`,
        })),
      );
      for (const { variable, key, value } of read.values.values()) {
        if (processEnv[variable] !== undefined && processEnv[variable] !== "")
          continue;
        env[variable] = value;
        fromFile.set(variable, key);
      }
    }
  }
  return { env: Object.freeze(env), fromFile, file, problems };
}

/**
 * Checks `declarations` against `resolved`, then runs `load`: every problem, or the config.
 * Unparseable values are all found by the declarations; a loader's own cross-setting rule is
 * reported when those pass.
 */
export function loadResolved<T>(
  resolved: ResolvedEnvironment,
  declarations: readonly Setting<unknown>[],
  load: (env: Env) => T,
): T {
  const problems = [
    ...resolved.problems,
    ...invalidSettings(resolved.env, declarations).map((error) =>
      problemOf(error, resolved.fromFile, resolved.file),
    ),
  ];
  if (problems.length > 0) throw new ConfigurationRefused(problems);
  try {
    return load(resolved.env);
  } catch (error) {
    if (error instanceof ConfigError)
      throw new ConfigurationRefused([
        problemOf(error, resolved.fromFile, resolved.file),
      ]);
    throw error;
  }
}

// ---- JSON Schema -----------------------------------------------------------------------------

/** The JSON Schema of switchyard.yaml: every declared key, nested by its dots, nothing else. */
export function configFileSchema(
  declarations: readonly Setting<unknown>[],
  {
    sectionDescriptions = {},
  }: { sectionDescriptions?: Readonly<Record<string, string>> } = {},
): JsonSchema {
  type ObjectSchema = {
    type: "object" | ["object", "null"];
    description?: string;
    additionalProperties: false;
    properties: Record<string, unknown>;
  };
  const root: ObjectSchema = {
    type: "object",
    additionalProperties: false,
    properties: {},
  };
  const sorted = declarations
    .filter((declared) => declared.key !== undefined)
    .sort((a, b) => a.key!.localeCompare(b.key!));
  for (const declared of sorted) {
    const parts = declared.key!.split(".");
    let node = root;
    parts.slice(0, -1).forEach((part, index) => {
      const path = parts.slice(0, index + 1).join(".");
      // A section may be empty (`router:` with every key commented out, as in the example file).
      node.properties[part] ??= {
        type: ["object", "null"],
        ...(sectionDescriptions[path]
          ? { description: sectionDescriptions[path] }
          : {}),
        additionalProperties: false,
        properties: {},
      };
      node = node.properties[part] as ObjectSchema;
    });
    const fallback = defaultOf(declared);
    node.properties[parts.at(-1)!] = {
      description: `${declared.description} (variable ${declared.env}${declared.secret ? "; a secret: prefer the environment or a secret store" : ""})`,
      ...declared.type.schema,
      ...(fallback !== undefined &&
      fallback !== "" &&
      !declared.defaultText &&
      (typeof fallback !== "object" || Array.isArray(fallback))
        ? { default: fallback }
        : {}),
    };
  }
  return {
    // Draft-07: what every editor's YAML language server reads; nothing here needs a later draft.
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "switchyard.yaml",
    description:
      "Switchyard configuration file. Every key has an environment variable, which wins over the file. Generated by `npm run config:docs`.",
    ...root,
  };
}
