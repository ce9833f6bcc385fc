import { loadConfigurationOrExit } from "../deploy/configuration.ts";
import { loadPipelineConfig, PIPELINE_SETTINGS_READ } from "./config.ts";
import { runPipelineRole } from "./run-role.ts";

await runPipelineRole(
  "analytics",
  await loadConfigurationOrExit(loadPipelineConfig, PIPELINE_SETTINGS_READ),
);
