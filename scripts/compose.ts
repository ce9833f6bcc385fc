/**
 * `npm run compose`: composes supergraph.yaml into supergraph.graphql, schema/api.graphql and the
 * contract variants schema/contracts/<name>.graphql (scripts/contracts.ts).
 * `npm run compose:check`: fails when any committed output differs from a fresh composition.
 * `--config <path>` composes another config (tests use fixtures).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { composeFromConfig, readCompositionConfig } from './composition.ts';

const args = process.argv.slice(2);
const check = args.includes('--check');
const configIndex = args.indexOf('--config');
const configPath = resolve(configIndex >= 0 ? (args[configIndex + 1] ?? 'supergraph.yaml') : 'supergraph.yaml');
const outputs = { supergraph: resolve('supergraph.graphql'), api: resolve('schema/api.graphql') };

const outcome = composeFromConfig(readCompositionConfig(configPath));
if (!outcome.ok) {
  console.error(`Composition failed with ${outcome.errors.length} error(s):`);
  for (const error of outcome.errors) console.error(`  - ${error}`);
  process.exit(1);
}
for (const hint of outcome.hints) console.log(`hint: ${hint}`);

const wanted: Record<string, string> = { [outputs.supergraph]: outcome.supergraphSdl.trimEnd() + '\n', [outputs.api]: outcome.apiSdl.trimEnd() + '\n' };
for (const [name, sdl] of Object.entries(outcome.contracts)) wanted[resolve(`schema/contracts/${name}.graphql`)] = sdl.trimEnd() + '\n';
const names = Object.keys(wanted).map((path) => relative(process.cwd(), path)).join(', ');
if (check) {
  const stale = Object.entries(wanted).filter(([path, text]) => !existsSync(path) || readFileSync(path, 'utf8') !== text);
  if (stale.length > 0) {
    console.error(`Stale composition output: ${stale.map(([path]) => relative(process.cwd(), path)).join(', ')}. Run \`npm run compose\` and commit the result.`);
    process.exit(1);
  }
  console.log(`Up to date: ${names}.`);
} else {
  for (const [path, text] of Object.entries(wanted)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  console.log(`Wrote ${names}.`);
}
