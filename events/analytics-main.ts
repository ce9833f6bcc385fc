import { loadPipelineConfig } from './config.ts';
import { runPipelineRole } from './run-role.ts';

await runPipelineRole('analytics', loadPipelineConfig(process.env));
