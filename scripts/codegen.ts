/**
 * `npm run codegen`: validates clients/operations/*.graphql against schema/api.graphql and writes
 * the typed documents to clients/generated/.
 * `npm run codegen:check`: exits 1 when an operation no longer validates or a generated file is
 * stale (part of `npm test`).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { DEFAULT_CODEGEN_PATHS, generateClient, staleFiles } from './client-codegen.ts';

const check = process.argv.includes('--check');
const paths = DEFAULT_CODEGEN_PATHS;
const outcome = await generateClient(paths);
if (!outcome.ok) {
  console.error(`${outcome.errors.length} operation error(s) against ${relative(process.cwd(), paths.schemaFile)}:`);
  for (const error of outcome.errors) console.error(`  - ${error}`);
  process.exit(1);
}

const stale = staleFiles(outcome.files, paths.outputDir);
if (check) {
  const problems = stale.map((path) => relative(process.cwd(), path));
  if (problems.length > 0) {
    console.error(`Stale generated client: ${problems.join(', ')}. Run \`npm run codegen\` and commit the result.`);
    process.exit(1);
  }
  console.log(`clients/generated is up to date (${Object.keys(outcome.files).length} files).`);
} else {
  mkdirSync(paths.outputDir, { recursive: true });
  for (const path of stale) if (!(path in outcome.files)) rmSync(path);
  for (const [path, text] of Object.entries(outcome.files)) writeFileSync(path, text);
  console.log(`Wrote ${Object.keys(outcome.files).map((path) => relative(process.cwd(), path)).join(', ')}.`);
}
