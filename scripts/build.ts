/**
 * `npm run build`: bundles every deployable (deploy/deployables.ts), the all-in-one `main.ts` and
 * the image's health check into plain JavaScript under `dist/` (`dist/<name>.js` + source map), so a
 * container starts with `node --enable-source-maps dist/<name>.js` and no transpiler.
 * `--outdir <dir>` writes elsewhere (the build test); it must lie inside the repository, because a
 * bundle finds its packages in the repository's `node_modules` (they stay external, unbundled).
 *
 * Files the code reads at run time next to its own source (`new URL('./schema.graphql',
 * import.meta.url)`: schemas, migrations) are found in the bundled sources and copied into the
 * output under the same relative path; each module's `import.meta.url` is rewritten to that mirrored
 * location, so those reads resolve inside `dist/` whichever bundle the module was inlined into.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { build, type Metafile, type Plugin } from "esbuild";
import { DEPLOYABLES } from "../deploy/deployables.ts";

export const ROOT = resolve(import.meta.dirname, "..");
export const DEFAULT_OUTDIR = join(ROOT, "dist");

/** What gets bundled: output name (`dist/<name>.js`) → source entry point. */
export const BUILD_ENTRIES: Readonly<Record<string, string>> = Object.freeze({
  ...Object.fromEntries(
    DEPLOYABLES.map((deployable) => [deployable.name, deployable.entry]),
  ),
  main: "main.ts",
  healthcheck: "deploy/healthcheck.ts",
});

/**
 * Files read through a path computed at run time, which the literal-URL scan cannot see: the docs
 * the router's landing page serves (`router/landing-page.ts` DOCS, `new URL(`../${file}`, …)`).
 */
const COMPUTED_ASSETS = ["README.md", "docs"];

/** `new URL('<literal>', import.meta.url)`: a file or folder read relative to the module itself. */
const MODULE_RELATIVE_URL =
  /new URL\(\s*(['"])([^'"`]+)\1\s*,\s*import\.meta\.url\s*\)/g;

export interface BuildResult {
  readonly outdir: string;
  /** Output name → bundle path. */
  readonly bundles: Readonly<Record<string, string>>;
  /** Repository-relative paths copied into the output for run-time reads. */
  readonly assets: readonly string[];
  /** Packages the bundles import at run time (left in node_modules). */
  readonly externalPackages: readonly string[];
}

/** Mirrors each module's location into the output and records the files it reads beside itself. */
function moduleLocations(assets: Set<string>): Plugin {
  return {
    name: "module-locations",
    setup(plugin) {
      plugin.onLoad({ filter: /\.ts$/ }, (args) => {
        if (args.path.split(sep).includes("node_modules")) return undefined;
        const source = readFileSync(args.path, "utf8");
        if (!source.includes("import.meta.url"))
          return { contents: source, loader: "ts" };
        const rel = relative(ROOT, args.path).split(sep).join("/");
        for (const match of source.matchAll(MODULE_RELATIVE_URL)) {
          const target = resolve(dirname(args.path), match[2]!);
          if (!existsSync(target))
            throw new Error(
              `${rel} reads ${match[2]} relative to itself, but ${relative(ROOT, target)} does not exist`,
            );
          if (!/\.[cm]?[jt]s$/.test(target))
            assets.add(relative(ROOT, target).split(sep).join("/"));
        }
        // Every bundle sits at the top of the output, so `./<rel>` is this module's mirrored place.
        const located = `new URL(${JSON.stringify(`./${rel}`)}, import.meta.url).href`;
        return {
          contents: source.replaceAll("import.meta.url", located),
          loader: "ts",
        };
      });
    },
  };
}

function externalPackages(metafile: Metafile): string[] {
  const names = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const { path, external } of output.imports) {
      if (!external || path.startsWith("node:") || path.startsWith("."))
        continue;
      names.add(
        path.startsWith("@")
          ? path.split("/").slice(0, 2).join("/")
          : path.split("/")[0]!,
      );
    }
  }
  return [...names].sort();
}

export async function buildAll({
  outdir = DEFAULT_OUTDIR,
}: { outdir?: string } = {}): Promise<BuildResult> {
  const out = resolve(outdir);
  if (!out.startsWith(ROOT + sep))
    throw new Error(
      `--outdir must lie inside ${ROOT} (bundles resolve their packages from its node_modules), got ${out}`,
    );
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const assets = new Set<string>(COMPUTED_ASSETS);
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: Object.entries(BUILD_ENTRIES).map(([name, entry]) => ({
      in: entry,
      out: name,
    })),
    outdir: out,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Packages stay in node_modules: `npm ci --omit=dev` installs them, native and WASM parts included.
    packages: "external",
    sourcemap: true,
    // Bundling renames clashing top-level names; error classes and logs rely on `.name`.
    keepNames: true,
    metafile: true,
    logLevel: "warning",
    plugins: [moduleLocations(assets)],
  });
  for (const asset of [...assets].sort())
    cpSync(join(ROOT, asset), join(out, asset), { recursive: true });
  return {
    outdir: out,
    bundles: Object.fromEntries(
      Object.keys(BUILD_ENTRIES).map((name) => [name, join(out, `${name}.js`)]),
    ),
    assets: [...assets].sort(),
    externalPackages: externalPackages(result.metafile),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const outdirIndex = args.indexOf("--outdir");
  const started = performance.now();
  const result = await buildAll(
    outdirIndex >= 0 ? { outdir: args[outdirIndex + 1] } : {},
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `Built ${Object.keys(result.bundles).length} bundles into ${relative(process.cwd(), result.outdir) || "."} in ${seconds} s (assets: ${result.assets.join(", ")}).`,
  );
}
