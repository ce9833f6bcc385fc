/**
 * The Guild federation workload's four subgraphs in a process of their own (see subgraphs.ts).
 * Writes the composed supergraph (with these instances' URLs) to a temporary file and reports
 * `{ supergraphPath }` over IPC; answers `requests` with the requests served so far (all four
 * subgraphs); exits on `stop`.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startGuildSubgraphs } from "./guild/subgraphs.ts";

const subgraphs = await startGuildSubgraphs();
const supergraphPath = join(
  mkdtempSync(join(tmpdir(), "guild-bench-")),
  "supergraph.graphql",
);
writeFileSync(supergraphPath, subgraphs.supergraphSdl);
process.on("message", async (message) => {
  if (message === "requests")
    process.send?.({
      requests: Object.values(subgraphs.requests).reduce(
        (sum, count) => sum + count,
        0,
      ),
    });
  if (message !== "stop") return;
  await subgraphs.close();
  process.exit(0);
});
process.send?.({ supergraphPath });
