/**
 * `npm run codegen`: reads codegen.ts (GraphQL Code Generator's config format), validates the
 * operations (clients/operations/*.graphql) against the schema (schema/api.graphql) and writes the
 * typed documents to clients/generated/, and each subgraph's resolver types (from its schema.graphql)
 * to subgraphs/<name>/generated/resolvers-types.ts.
 * `npm run codegen:check` (`--check`): exits 1 when an operation no longer validates or a generated
 * file is stale (part of `npm test`).
 * `npm run codegen -- --watch`: generates, then again whenever the schema or an operation file
 * changes (e.g. under `npm run compose -- --watch`); errors are printed and the last good output
 * stays. Ctrl-C stops it.
 */
import {
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  watch,
  writeFileSync,
} from "node:fs";
import { dirname, relative, resolve } from "node:path";
import {
  DEFAULT_CODEGEN_PATHS,
  generateClient,
  staleFiles,
} from "./client-codegen.ts";
import {
  DEFAULT_RESOLVER_OUTPUTS,
  generateResolverTypes,
} from "./resolver-codegen.ts";

const check = process.argv.includes("--check");
const watching = process.argv.includes("--watch");
const paths = DEFAULT_CODEGEN_PATHS;

/** Generates (or, with --check, compares) everything once; true when all is good and current. */
async function generateOnce(): Promise<boolean> {
  const client = await generateClientOnce();
  return (await generateResolversOnce()) && client;
}

async function generateResolversOnce(): Promise<boolean> {
  let files: Record<string, string>;
  try {
    files = await generateResolverTypes();
  } catch (error) {
    console.error(`Subgraph resolver types: ${(error as Error).message}`);
    return false;
  }
  const stale = Object.keys(files).filter(
    (path) => !existsSync(path) || readFileSync(path, "utf8") !== files[path],
  );
  const names = stale.map((path) => relative(process.cwd(), path)).join(", ");
  if (check && stale.length > 0) {
    console.error(
      `Stale resolver types: ${names}. Run \`npm run codegen\` and commit the result.`,
    );
    return false;
  }
  for (const path of check ? [] : stale) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, files[path]!);
  }
  console.log(
    stale.length > 0 && !check
      ? `Wrote ${names}.`
      : `Subgraph resolver types are up to date (${Object.keys(files).length} files).`,
  );
  return true;
}

async function generateClientOnce(): Promise<boolean> {
  const outcome = await generateClient(paths).catch((error: unknown) => ({
    ok: false as const,
    errors: [(error as Error).message],
  }));
  if (!outcome.ok) {
    console.error(
      `${outcome.errors.length} operation error(s) against ${relative(process.cwd(), paths.schemaFile)}:`,
    );
    for (const error of outcome.errors) console.error(`  - ${error}`);
    return false;
  }
  const stale = staleFiles(outcome.files, paths.outputDir);
  if (check) {
    const problems = stale.map((path) => relative(process.cwd(), path));
    if (problems.length > 0) {
      console.error(
        `Stale generated client: ${problems.join(", ")}. Run \`npm run codegen\` and commit the result.`,
      );
      return false;
    }
    console.log(
      `clients/generated is up to date (${Object.keys(outcome.files).length} files).`,
    );
    return true;
  }
  mkdirSync(paths.outputDir, { recursive: true });
  for (const path of stale) if (!(path in outcome.files)) rmSync(path);
  for (const path of stale)
    if (path in outcome.files) writeFileSync(path, outcome.files[path]!);
  console.log(
    stale.length > 0
      ? `Wrote ${stale.map((path) => relative(process.cwd(), path)).join(", ")}.`
      : "clients/generated is up to date.",
  );
  return true;
}

if (watching && check) {
  console.error("--watch and --check do not go together");
  process.exit(2);
}
const good = await generateOnce();
if (!watching) process.exit(good ? 0 : 1);

// Folders, not files: editors replace a file on save, which a watch on the file itself loses.
const DEBOUNCE_MS = 100;
let timer: NodeJS.Timeout | undefined;
const schemaFiles = new Set([
  paths.schemaFile,
  ...DEFAULT_RESOLVER_OUTPUTS.map((output) => output.schemaFile),
]);
const relevant = (folder: string, name: string) =>
  folder === paths.operationsDir
    ? name.endsWith(".graphql")
    : schemaFiles.has(resolve(folder, name));
for (const folder of new Set([
  ...[...schemaFiles].map((file) => dirname(file)),
  paths.operationsDir,
])) {
  watch(folder, (_event, name) => {
    if (!name || !relevant(folder, name.toString())) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      console.log(`Change in ${name.toString()}: generating.`);
      void generateOnce();
    }, DEBOUNCE_MS);
  });
}
console.log(
  `Watching ${[...schemaFiles].map((file) => relative(process.cwd(), file)).join(", ")} and ${relative(process.cwd(), paths.operationsDir)}/*.graphql (Ctrl-C to stop).`,
);
