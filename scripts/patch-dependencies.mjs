// Applies our patches to installed dependencies: run by the root `postinstall` script (npm ci,
// npm install) and safe to run again. Plain JavaScript on purpose: it runs before anything is
// built, including in the Docker image's `npm ci --omit=dev`, where tsx is not installed.
//
// Each patch names one file of one package at one exact version, the text to replace and its
// replacement. The script fails loudly (exit 1) when the package version or the text it expects
// has changed, so an upgrade cannot silently drop a fix: port the patch or delete it, and rerun
// the conformance audit (docs/conformance.md).
/* global process, console */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** @typedef {{ id: string, pkg: string, version: string, file: string, why: string, find: string, replace: string }} Patch */

/** @type {Patch[]} */
export const PATCHES = [
  {
    // federation-gateway-audit keys-mashup_0 (docs/conformance.md). After a @requires is fetched,
    // the planner goes back to the subgraph that declared it through an `_entities` call keyed by
    // the first @key of that subgraph whose fields are local, ignoring `resolvable: false`: the
    // subgraph is then asked to resolve a representation by a key it declared it cannot resolve.
    // Only resolvable keys can take an `_entities` call (the query graph has no edge for the
    // others), so they come first; the old choice stays when a type has no resolvable local key.
    id: "resolvable-post-requires-key",
    pkg: "@apollo/query-graphs",
    version: "2.14.4",
    file: "dist/graphPath.js",
    why: "the post-@requires key must be a resolvable @key",
    find: `    for (const key of type.appliedDirectivesOf(keyDirective)) {
        const selection = (0, federation_internals_1.parseFieldSetArgument)({ parentType: type, directive: key });
        if (!metadata.selectionSelectsAnyExternalField(selection)) {
            return selection;
        }
    }
    return undefined;
}`,
    replace: `    // switchyard patch resolvable-post-requires-key (scripts/patch-dependencies.mjs): the first
    // resolvable key wins; a non-resolvable one only when there is no other (an @interfaceObject
    // type-explosion plans through one without fetching by it).
    let nonResolvable = undefined;
    for (const key of type.appliedDirectivesOf(keyDirective)) {
        const selection = (0, federation_internals_1.parseFieldSetArgument)({ parentType: type, directive: key });
        if (!metadata.selectionSelectsAnyExternalField(selection)) {
            if (key.arguments().resolvable !== false) {
                return selection;
            }
            nonResolvable = nonResolvable !== null && nonResolvable !== void 0 ? nonResolvable : selection;
        }
    }
    return nonResolvable;
}`,
  },
];

const MARK = (id) => `switchyard patch ${id} `;

/**
 * Applies every patch under `root/node_modules`. Returns one line per patch saying what was done;
 * throws on a version or text mismatch.
 * @param {string} root the project directory
 * @param {Patch[]} [patches]
 * @returns {string[]}
 */
export function applyPatches(root, patches = PATCHES) {
  const done = [];
  for (const patch of patches) {
    const pkgDir = join(root, "node_modules", patch.pkg);
    const { version } = JSON.parse(
      readFileSync(join(pkgDir, "package.json"), "utf8"),
    );
    if (version !== patch.version) {
      throw new Error(
        `patch ${patch.id}: ${patch.pkg} is ${version}, the patch is for ${patch.version}; port or remove it in scripts/patch-dependencies.mjs`,
      );
    }
    const path = join(pkgDir, patch.file);
    const text = readFileSync(path, "utf8");
    if (text.includes(MARK(patch.id))) {
      done.push(`${patch.id}: already applied to ${patch.pkg}/${patch.file}`);
      continue;
    }
    const at = text.indexOf(patch.find);
    if (at < 0 || text.indexOf(patch.find, at + 1) >= 0) {
      throw new Error(
        `patch ${patch.id}: the text to replace is ${at < 0 ? "missing from" : "not unique in"} ${patch.pkg}/${patch.file}; port or remove it in scripts/patch-dependencies.mjs`,
      );
    }
    writeFileSync(
      path,
      text.slice(0, at) + patch.replace + text.slice(at + patch.find.length),
    );
    done.push(
      `${patch.id}: applied to ${patch.pkg}/${patch.file} (${patch.why})`,
    );
  }
  return done;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  try {
    for (const line of applyPatches(root))
      console.log(`patch-dependencies: ${line}`);
  } catch (error) {
    console.error(
      `patch-dependencies: ${error instanceof Error ? error.message : String(error)}`,
    );
    process.exit(1);
  }
}
