/**
 * `npm run compose`: composes supergraph.yaml into supergraph.graphql, schema/api.graphql and the
 * contract variants schema/contracts/<name>.graphql (scripts/contracts.ts).
 * `npm run compose:check`: fails when any committed output differs from a fresh composition.
 * `npm run compose -- --watch`: composes, then again whenever supergraph.yaml or a subgraph schema
 * it names changes (a running router hot-reloads supergraph.graphql); a failed composition is
 * printed and the last good output stays. Ctrl-C stops it.
 * `--config <path>` composes another config (tests use fixtures). Honours `federation_version`
 * (scripts/composition.ts `parseFederationVersion`).
 */
import {
  existsSync,
  mkdirSync,
  readFileSync,
  watch,
  writeFileSync,
  type FSWatcher,
} from "node:fs";
import { basename, dirname, relative, resolve } from "node:path";
import { composeFromConfig, readCompositionConfig } from "./composition.ts";

const args = process.argv.slice(2);
const check = args.includes("--check");
const watching = args.includes("--watch");
const configIndex = args.indexOf("--config");
const configPath = resolve(
  configIndex >= 0
    ? (args[configIndex + 1] ?? "supergraph.yaml")
    : "supergraph.yaml",
);
const outputs = {
  supergraph: resolve("supergraph.graphql"),
  api: resolve("schema/api.graphql"),
};

/** Composes once: writes (or, with --check, compares) the outputs. Returns the schema files it read, or undefined on failure. */
function composeOnce(): string[] | undefined {
  let config;
  try {
    config = readCompositionConfig(configPath);
  } catch (error) {
    console.error((error as Error).message);
    return undefined;
  }
  const outcome = composeFromConfig(config);
  const files = config.subgraphs.map((subgraph) => subgraph.schemaFile);
  if (!outcome.ok) {
    console.error(`Composition failed with ${outcome.errors.length} error(s):`);
    for (const error of outcome.errors) console.error(`  - ${error}`);
    return watching ? files : undefined;
  }
  for (const hint of outcome.hints) console.log(`hint: ${hint}`);

  const wanted: Record<string, string> = {
    [outputs.supergraph]: outcome.supergraphSdl.trimEnd() + "\n",
    [outputs.api]: outcome.apiSdl.trimEnd() + "\n",
  };
  for (const [name, sdl] of Object.entries(outcome.contracts))
    wanted[resolve(`schema/contracts/${name}.graphql`)] = sdl.trimEnd() + "\n";
  const names = Object.keys(wanted)
    .map((path) => relative(process.cwd(), path))
    .join(", ");
  if (check) {
    const stale = Object.entries(wanted).filter(
      ([path, text]) =>
        !existsSync(path) || readFileSync(path, "utf8") !== text,
    );
    if (stale.length > 0) {
      console.error(
        `Stale composition output: ${stale.map(([path]) => relative(process.cwd(), path)).join(", ")}. Run \`npm run compose\` and commit the result.`,
      );
      return undefined;
    }
    console.log(`Up to date: ${names}.`);
    return files;
  }
  // Only changed files are written: an unchanged supergraph must not make the router reload.
  const changed = Object.entries(wanted).filter(
    ([path, text]) => !existsSync(path) || readFileSync(path, "utf8") !== text,
  );
  for (const [path, text] of changed) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  console.log(
    changed.length > 0
      ? `Wrote ${changed.map(([path]) => relative(process.cwd(), path)).join(", ")}.`
      : `Up to date: ${names}.`,
  );
  return files;
}

if (watching && check) {
  console.error("--watch and --check do not go together");
  process.exit(2);
}
const files = composeOnce();
if (!watching) process.exit(files ? 0 : 1);

/**
 * Watches the folders (editors replace files on save, which a watch on the file itself loses) of
 * the config and every schema it names; a burst of events within DEBOUNCE_MS is one recomposition.
 * The set of watched files follows the config as it changes.
 */
const DEBOUNCE_MS = 100;
let watchers: FSWatcher[] = [];
let timer: NodeJS.Timeout | undefined;
function watchAll(schemaFiles: readonly string[]): void {
  for (const watcher of watchers) watcher.close();
  const wanted = new Set([configPath, ...schemaFiles]);
  const folders = new Set([...wanted].map((file) => dirname(file)));
  watchers = [...folders].map((folder) =>
    watch(folder, (_event, name) => {
      if (name && !wanted.has(resolve(folder, name.toString()))) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        console.log(
          `Change in ${name ? basename(name.toString()) : folder}: recomposing.`,
        );
        const next = composeOnce();
        if (next) watchAll(next);
      }, DEBOUNCE_MS);
    }),
  );
}
watchAll(files ?? []);
console.log(
  `Watching ${relative(process.cwd(), configPath)} and its subgraph schemas (Ctrl-C to stop).`,
);
